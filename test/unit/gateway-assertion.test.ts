import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { AssertionSigner, assertionType } from '../../src/gateway/assertion.ts';
import type { GatewayKeys } from '../../src/gateway/gateway-keys.ts';
import type { GatewayPrincipal } from '../../src/gateway/gateway-principal.ts';

// The signer's cache, with a stand-in for GatewayKeys that signs with a fresh key and counts.
async function fakeKeys() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
  const keys = {
    generation: 1,
    signed: 0,
    async sign(claims: JWTPayload, opts: { typ: string; expiresAt: number }) {
      keys.signed++;
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: opts.typ, kid: 'k1' }).setExpirationTime(Math.floor(opts.expiresAt / 1000)).sign(privateKey);
    },
  };
  return { keys, jwks };
}

const principal = (over: Partial<GatewayPrincipal> = {}): GatewayPrincipal => Object.freeze({
  orgId: 'o1', orgSlug: 'acme', userId: null, role: 'member', permissions: new Set(['b:read', 'a:write']),
  credential: { type: 'service_account', id: 'sa-row-1' }, workspaceId: 'w1', workspaceIds: new Set(['w1']), expiresAt: Infinity, ...over,
} as GatewayPrincipal);

test('claims: sub is the service account when there is no user; permissions sorted; typ set; exp within the ttl', async () => {
  const { keys, jwks } = await fakeKeys();
  const signer = new AssertionSigner(keys as unknown as GatewayKeys, { issuer: 'https://gh/oidc', audience: 'https://gh/gateway' });
  const token = await signer.assertionFor(principal());
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: 'https://gh/oidc', audience: 'https://gh/gateway', typ: assertionType });
  expect(protectedHeader.kid).toBe('k1');
  expect(payload).toMatchObject({ sub: 'sa-row-1', org_id: 'o1', role: 'member', permissions: ['a:write', 'b:read'], credential: { type: 'service_account', id: 'sa-row-1' }, workspace_id: 'w1' });
  expect(payload.exp! - payload.iat!).toBe(60);
});

test('exp never outlives the credential', async () => {
  const { keys, jwks } = await fakeKeys();
  const signer = new AssertionSigner(keys as unknown as GatewayKeys, { issuer: 'i', audience: 'a' });
  const expiresAt = Date.now() + 10_000;
  const { payload } = await jwtVerify(await signer.assertionFor(principal({ expiresAt })), jwks);
  expect(payload.exp).toBe(Math.floor(expiresAt / 1000));
});

test('cached per principal: synchronous on a hit, shared by concurrent first requests, re-signed past half its life', async () => {
  const { keys } = await fakeKeys();
  let now = 1_700_000_000_000;
  const signer = new AssertionSigner(keys as unknown as GatewayKeys, { issuer: 'i', audience: 'a', now: () => now });
  const p = principal();
  const [first, second] = await Promise.all([signer.assertionFor(p), signer.assertionFor(p)]);
  expect(first).toBe(second);
  expect(keys.signed).toBe(1);
  expect(signer.assertionFor(p)).toBe(first); // a string, not a promise
  now += 31_000; // past half of 60 s: the old one still serves while a new one is signed
  expect(signer.assertionFor(p)).toBe(first);
  expect(keys.signed).toBe(2);
  for (let i = 0; i < 100 && signer.assertionFor(p) === first; i++) await new Promise((r) => setTimeout(r, 5));
  const renewed = signer.assertionFor(p);
  expect(typeof renewed).toBe('string');
  expect(renewed).not.toBe(first);
  expect(keys.signed).toBe(2);
  expect(signer.assertionFor(principal())).toBeInstanceOf(Promise); // another principal object: its own
});

test('a key reload (new generation) signs again at once', async () => {
  const { keys } = await fakeKeys();
  const signer = new AssertionSigner(keys as unknown as GatewayKeys, { issuer: 'i', audience: 'a' });
  const p = principal();
  const first = await signer.assertionFor(p);
  keys.generation++;
  const next = signer.assertionFor(p);
  expect(next).toBeInstanceOf(Promise);
  expect(await next).not.toBe(first);
});
