import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { apiKeyHashes, apiKeySecretValid } from '../../src/modules/api-keys/api-key-credential.ts';
import { ApiKeyTokens, sameDigest } from '../../src/modules/api-keys/api-key-token.ts';

// The keyed hash of API key secrets: HMAC keys held as KeyObjects, digests compared as bytes in
// constant time, and the one check (apiKeySecretValid) the management API and the gateway share.
const secretKey = randomBytes(32).toString('base64url');
const tokens = new ApiKeyTokens(secretKey);
const hour = 3_600_000;

/** The hash computed independently (HKDF, then HMAC with a plain Buffer key): what stored rows hold. */
function independentHash(secret: string, info: string): string {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secretKey), Buffer.alloc(0), info, 32));
  return createHmac('sha256', key).update(secret).digest('hex');
}

test('hashes are unchanged by KeyObject keys: rows stored before still verify, per kind', () => {
  const { token, secretHash } = tokens.issue();
  const { secret } = tokens.parse(token)!;
  expect(secretHash).toBe(independentHash(secret, 'gatehouse api-key hash v1'));
  const platform = tokens.issue('platform');
  expect(platform.secretHash).toBe(independentHash(tokens.parse(platform.token, 'platform')!.secret, 'gatehouse platform-key hash v1'));
  const scim = tokens.issueDirectoryToken();
  expect(scim.secretHash).toBe(independentHash(tokens.parseDirectoryToken(scim.token)!, 'gatehouse scim-token hash v1'));
  expect(tokens.digest(secret).toString('hex')).toBe(secretHash);
});

test('verify takes the stored hash as hex or as decoded bytes; a wrong secret fails either way', () => {
  const { token, secretHash } = tokens.issue();
  const { secret } = tokens.parse(token)!;
  expect(tokens.verify(secret, secretHash)).toBe(true);
  expect(tokens.verify(secret, Buffer.from(secretHash, 'hex'))).toBe(true);
  const wrong = randomBytes(24).toString('hex');
  expect(tokens.verify(wrong, secretHash)).toBe(false);
  expect(tokens.verify(wrong, Buffer.from(secretHash, 'hex'))).toBe(false);
});

test('a hash never verifies across kinds, nor under another GATEHOUSE_SECRET_KEY', () => {
  const { token, secretHash } = tokens.issue();
  const { secret } = tokens.parse(token)!;
  expect(tokens.verify(secret, secretHash, 'platform')).toBe(false);
  expect(tokens.verify(secret, secretHash, 'scim')).toBe(false);
  expect(new ApiKeyTokens(randomBytes(32).toString('base64url')).verify(secret, secretHash)).toBe(false);
});

test('a malformed stored hash (empty, truncated, not hex) never matches and never throws', () => {
  const { token, secretHash } = tokens.issue();
  const { secret } = tokens.parse(token)!;
  for (const bad of ['', secretHash.slice(0, 62), `${secretHash}00`, 'zz'.repeat(32), Buffer.alloc(0), Buffer.alloc(32)]) {
    expect(tokens.verify(secret, bad)).toBe(false);
  }
  expect(sameDigest(Buffer.alloc(32), Buffer.alloc(31))).toBe(false);
  expect(sameDigest(Buffer.alloc(32, 1), Buffer.alloc(32, 1))).toBe(true);
});

describe('apiKeySecretValid (the management API and the gateway decide with it)', () => {
  const now = Date.now();
  const current = tokens.issue();
  const previous = tokens.reissue(current.id);
  const secretOf = (token: string) => tokens.parse(token)!.secret;
  const row = (over: Partial<Parameters<typeof apiKeySecretValid>[2]> = {}) => ({
    secret_hash: current.secretHash, previous_secret_hash: previous.secretHash, previous_secret_expires_at: new Date(now + hour),
    expires_at: null, revoked_at: null, ...over,
  });

  test('the current secret, and the previous one during its grace, open the key; with decoded hashes too', () => {
    for (const hashes of [undefined, apiKeyHashes(row())]) {
      expect(apiKeySecretValid(tokens, secretOf(current.token), row(), now, hashes)).toBe(true);
      expect(apiKeySecretValid(tokens, secretOf(previous.token), row(), now, hashes)).toBe(true);
    }
  });

  test('the previous secret after its grace, a wrong secret, a revoked or expired key: refused', () => {
    const graceOver = row({ previous_secret_expires_at: new Date(now - 1) });
    expect(apiKeySecretValid(tokens, secretOf(previous.token), graceOver, now, apiKeyHashes(graceOver))).toBe(false);
    expect(apiKeySecretValid(tokens, secretOf(current.token), graceOver, now, apiKeyHashes(graceOver))).toBe(true);
    expect(apiKeySecretValid(tokens, randomBytes(24).toString('hex'), row(), now)).toBe(false);
    expect(apiKeySecretValid(tokens, secretOf(current.token), row({ revoked_at: new Date(now - 1) }), now)).toBe(false);
    expect(apiKeySecretValid(tokens, secretOf(current.token), row({ expires_at: new Date(now) }), now)).toBe(false);
    const noRotation = row({ previous_secret_hash: null, previous_secret_expires_at: null });
    expect(apiKeyHashes(noRotation).previous).toBeNull();
    expect(apiKeySecretValid(tokens, secretOf(previous.token), noRotation, now)).toBe(false);
  });
});
