import type { EntityManager } from '@mikro-orm/sql';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError } from '../../src/crypto/secret-box.ts';
import { APP_ROLE } from '../../src/db/database.ts';
import { SigningKeys } from '../../src/oidc/signing-keys.ts';
import { startApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t.close());

/**
 * signing_keys is global, and on PostgreSQL every test file shares one database: each test here
 * runs in one transaction, on a table it empties first, that is rolled back at the end, so it
 * neither sees nor disturbs other files' keys (the service's own transactions become savepoints).
 * Time is never waited for: every call is told the moment it acts at.
 */
let em: EntityManager;
let keys: SigningKeys;
let box: SecretBox;
beforeEach(async () => {
  em = t.db.orm.em.fork({ clear: true });
  em.setSessionContext({ variables: { role: APP_ROLE } });
  await em.begin();
  await em.execute('DELETE FROM signing_keys');
  box = new SecretBox(t.config.secretKey);
  keys = new SigningKeys({ withoutOrg: (fn) => em.transactional(fn) }, box);
});
afterEach(() => em.rollback());

const t0 = new Date('2031-05-01T12:00:00.000Z');
const at = (ms: number) => new Date(+t0 + ms);
const kidsOf = (jwks: { keys: JWK[] }) => jwks.keys.map((k) => `${k.alg}:${k.kid}`);
const rowCount = async () => Number((await em.execute<{ n: string | number }[]>('SELECT count(*) AS n FROM signing_keys'))[0]!.n);

test('the first start makes one current ES256 and one RS256 key, and only once', async () => {
  const created = await keys.ensureKeys(t0);
  expect(created).toEqual([
    { kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), alg: 'ES256', activatesAt: t0 },
    { kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), alg: 'RS256', activatesAt: t0 },
  ]);
  expect(await keys.ensureKeys(at(1000))).toEqual([]);
  expect(await rowCount()).toBe(2);
  expect(kidsOf(await keys.jwks(t0))).toEqual(created.map((k) => `${k.alg}:${k.kid}`));
});

test('private keys are stored sealed, bound to their kid, and open back to the JWK', async () => {
  await keys.ensureKeys(t0);
  const rows = await em.execute<{ kid: string; private_jwk: string }[]>('SELECT kid, private_jwk FROM signing_keys');
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    expect(row.private_jwk).toMatch(/^v1\./);
    expect(row.private_jwk).not.toContain('"d"');
    expect(row.private_jwk).not.toContain('kty');
    const jwk = JSON.parse(box.open(row.private_jwk, row.kid)) as JWK;
    expect(jwk).toMatchObject({ kid: row.kid, use: 'sig', d: expect.any(String) });
  }
  // a sealed key copied onto another kid does not open there
  expect(() => box.open(rows[0]!.private_jwk, rows[1]!.kid)).toThrow(SecretBoxError);
  await em.execute('UPDATE signing_keys SET private_jwk = ? WHERE kid = ?', [rows[0]!.private_jwk, rows[1]!.kid]);
  await expect(keys.jwks(t0)).rejects.toThrow(rows[1]!.kid);
});

test('under another GATEHOUSE_SECRET_KEY the keys do not open, and the error names the key', async () => {
  const [first] = await keys.ensureKeys(t0);
  const other = new SigningKeys({ withoutOrg: (fn) => em.transactional(fn) }, new SecretBox(randomBytes(32).toString('base64url')));
  await expect(other.jwks(t0)).rejects.toThrow(SecretBoxError);
  await expect(other.jwks(t0)).rejects.toThrow(new RegExp(`${first!.kid}.*GATEHOUSE_SECRET_KEY`));
});

test('a rotation publishes the next keys at once, signs with them after propagation, retires the old after the longest token', async () => {
  const [e0, r0] = (await keys.ensureKeys(t0)).map((k) => `${k.alg}:${k.kid}`);
  const before = await keys.version(at(10_000));

  const rotatedAt = at(10_000);
  const rotation = await keys.rotate({ propagationSeconds: 60, maxTokenLifetimeSeconds: 300 }, rotatedAt);
  const activation = at(70_000);
  const retirement = at(370_000);
  expect(rotation.keys.map((k) => [k.alg, k.activatesAt])).toEqual([['ES256', activation], ['RS256', activation]]);
  expect(rotation.retiring.map((k) => `${k.alg}:${k.kid}`).sort()).toEqual([e0, r0].sort());
  expect(rotation.retiring.map((k) => k.retiresAt)).toEqual([retirement, retirement]);
  expect(rotation.removed).toEqual([]);
  const [e1, r1] = rotation.keys.map((k) => `${k.alg}:${k.kid}`);

  // published at once, but the current keys stay first (they still sign) until activation
  const afterRotate = await keys.version(rotatedAt);
  expect(afterRotate).not.toBe(before);
  expect(afterRotate).toMatch(new RegExp(`@${activation.toISOString().replace(/\./g, '\\.')}$`));
  expect(kidsOf(await keys.jwks(rotatedAt))).toEqual([e0, r0, e1, r1]);
  expect(kidsOf(await keys.jwks(at(69_999)))).toEqual([e0, r0, e1, r1]);
  expect(await keys.version(at(69_999))).toBe(afterRotate);

  // activation: the new keys lead; the old ones stay published so what they signed verifies
  expect(kidsOf(await keys.jwks(activation))).toEqual([e1, r1, e0, r0]);
  const afterActivation = await keys.version(activation);
  expect(afterActivation).not.toBe(afterRotate);
  expect(afterActivation).toMatch(new RegExp(`@${retirement.toISOString().replace(/\./g, '\\.')}$`));
  expect(kidsOf(await keys.jwks(at(369_999)))).toEqual([e1, r1, e0, r0]);

  // retirement: gone from the JWKS, and a later rotation deletes them
  expect(kidsOf(await keys.jwks(retirement))).toEqual([e1, r1]);
  const afterRetirement = await keys.version(retirement);
  expect(afterRetirement).not.toBe(afterActivation);
  expect(afterRetirement).toMatch(/@never$/);
  const next = await keys.rotate({ propagationSeconds: 60, maxTokenLifetimeSeconds: 300 }, at(400_000));
  expect(next.removed.sort()).toEqual([e0!, r0!].map((k) => k.split(':')[1]).sort());
  expect(await rowCount()).toBe(4);
});

test('a second rotation before the first activates supersedes the announced keys', async () => {
  const [e0] = await keys.ensureKeys(t0);
  const first = await keys.rotate({ propagationSeconds: 600, maxTokenLifetimeSeconds: 300 }, at(1000));
  const second = await keys.rotate({ propagationSeconds: 60, maxTokenLifetimeSeconds: 300 }, at(2000));
  expect(second.removed.sort()).toEqual(first.keys.map((k) => k.kid).sort());
  // the key still signing hands over to the newest key, and retires after that hand-over
  expect(second.retiring.find((k) => k.kid === e0!.kid)?.retiresAt).toEqual(at(2000 + 60_000 + 300_000));
  const jwks = await keys.jwks(at(601_000)); // past the superseded keys' activation
  expect(jwks.keys[0]!.kid).toBe(second.keys[0]!.kid);
  expect(jwks.keys.map((k) => k.kid)).not.toContain(first.keys[0]!.kid);
});

test('rotating before any key exists signs with the new keys at once', async () => {
  const rotation = await keys.rotate({ propagationSeconds: 600, maxTokenLifetimeSeconds: 300 }, t0);
  expect(rotation.keys.map((k) => k.activatesAt)).toEqual([t0, t0]);
  expect(rotation.retiring).toEqual([]);
  expect(await keys.ensureKeys(t0)).toEqual([]);
});

test('rotation refuses negative or fractional durations', async () => {
  await expect(keys.rotate({ propagationSeconds: -1, maxTokenLifetimeSeconds: 300 }, t0)).rejects.toThrow(/propagationSeconds/);
  await expect(keys.rotate({ propagationSeconds: 1, maxTokenLifetimeSeconds: 0.5 }, t0)).rejects.toThrow(/maxTokenLifetimeSeconds/);
  expect(await rowCount()).toBe(0);
});

test('a token signed with the first key of each alg verifies against the public JWKS', async () => {
  await keys.ensureKeys(t0);
  await keys.rotate({ propagationSeconds: 60, maxTokenLifetimeSeconds: 300 }, t0);
  const { keys: privateKeys } = await keys.jwks(t0);
  const publicJwks = await keys.publicJwks(t0);
  for (const jwk of publicJwks.keys) {
    expect(Object.keys(jwk).filter((m) => ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'].includes(m))).toEqual([]);
  }
  const verifyWith = createLocalJWKSet(publicJwks);
  for (const alg of ['ES256', 'RS256']) {
    const signer = privateKeys.find((k) => k.alg === alg)!;
    const jwt = await new SignJWT({ sub: 'user-1' })
      .setProtectedHeader({ alg, kid: signer.kid! })
      .setIssuer('https://gatehouse.test/oidc')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(await importJWK(signer, alg));
    const { payload, protectedHeader } = await jwtVerify(jwt, verifyWith, { issuer: 'https://gatehouse.test/oidc' });
    expect(payload.sub).toBe('user-1');
    expect(protectedHeader.kid).toBe(signer.kid);
  }
});
