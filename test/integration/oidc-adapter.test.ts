import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors, type Adapter, type AdapterConstructor } from 'oidc-provider';
import pino from 'pino';
import { toDate } from '../../src/db/rows.ts';
import { createAdapterFactory } from '../../src/oidc/adapter.ts';
import { ExpirySweeper } from '../../src/oidc/expiry-sweeper.ts';
import { startApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
/** A second app on the same PostgreSQL database (its own pool), when the suite runs on one. */
let second: TestApp | null = null;
let Node1: AdapterConstructor;
let Node2: AdapterConstructor;

beforeAll(async () => {
  t = await startApp();
  // Each embedded database belongs to one app, so without PostgreSQL the "second node" is a
  // second adapter over the same Database. Nodes of one deployment share the secret key.
  if (process.env.TEST_DATABASE_URL) second = await startApp({ GATEHOUSE_SECRET_KEY: t.config.secretKey });
  Node1 = createAdapterFactory(t.db);
  Node2 = createAdapterFactory((second ?? t).db);
});
afterAll(async () => {
  await second?.close();
  await t.close();
});

const adapter = (model: string, node = Node1): Adapter => new node(model);
const newId = () => randomUUID().replaceAll('-', '');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface StoredRow { grant_id: string | null; uid: string | null; user_code: string | null; expires_at: Date | string | null; consumed_at: Date | string | null }

async function storedRow(model: string, id: string): Promise<StoredRow | undefined> {
  const rows = await t.db.withoutOrg((em) => em.execute<StoredRow[]>(
    'SELECT grant_id, uid, user_code, expires_at, consumed_at FROM oidc_models WHERE model = ? AND id = ?', [model, id]));
  return rows[0];
}

describe('the adapter contract', () => {
  test('a payload comes back exactly as stored: nesting, numbers, unicode, escapes, key order', async () => {
    const id = newId();
    const payload = {
      zeta: 1, alpha: { list: [1, 'two', { three: true }], empty: {}, none: [] }, float: 1.5, negative: -42,
      big: Number.MAX_SAFE_INTEGER, no: false, nothing: null, unicode: 'Zoë 🔐 日本', control: 'tab\tline\n',
      quoting: `it's "quoted" \\ with ? marks and $1`, nul: 'a\u0000b', lone: '\ud800', kind: 'AccessToken', jti: id,
    };
    await adapter('AccessToken').upsert(id, payload, 60);
    const found = await adapter('AccessToken').find(id);
    expect(found).toEqual(payload);
    expect(Object.keys(found!)).toEqual(Object.keys(payload));
  });

  test('an unknown id, or a known id under another model, finds nothing', async () => {
    const id = newId();
    await adapter('AuthorizationCode').upsert(id, { jti: id }, 60);
    expect(await adapter('AuthorizationCode').find(newId())).toBeUndefined();
    expect(await adapter('AccessToken').find(id)).toBeUndefined();
  });

  test('a row past its expiry is not found; expiresIn is in seconds, and without it a row never expires', async () => {
    const [short, long, forever] = [newId(), newId(), newId()];
    await adapter('Interaction').upsert(short, { jti: short }, 1);
    await adapter('Interaction').upsert(long, { jti: long }, 3600);
    await adapter('Interaction').upsert(forever, { jti: forever });
    expect(await adapter('Interaction').find(short)).toEqual({ jti: short });

    const expiresAt = toDate((await storedRow('Interaction', long))!.expires_at!);
    expect(Math.abs(expiresAt.getTime() - (Date.now() + 3600_000))).toBeLessThan(60_000);
    expect((await storedRow('Interaction', forever))!.expires_at).toBeNull();

    await sleep(1_200);
    expect(await adapter('Interaction').find(short)).toBeUndefined();
    expect(await adapter('Interaction').find(long)).toEqual({ jti: long });
    expect(await adapter('Interaction').find(forever)).toEqual({ jti: forever });
  });

  test('findByUid finds a live Session by its uid, and only under that model', async () => {
    const [id, uid] = [newId(), newId()];
    await adapter('Session').upsert(id, { jti: id, uid, accountId: 'acc-1' }, 60);
    expect(await adapter('Session').findByUid(uid)).toEqual({ jti: id, uid, accountId: 'acc-1' });
    expect(await adapter('Session').findByUid(newId())).toBeUndefined();
    expect(await adapter('Interaction').findByUid(uid)).toBeUndefined();

    await adapter('Session').upsert(id, { jti: id, uid }, -1);
    expect(await adapter('Session').findByUid(uid)).toBeUndefined();
  });

  test('findByUserCode finds a DeviceCode by its user code, not once expired', async () => {
    const [id, userCode] = [newId(), `BCDF-${newId().slice(0, 4)}`];
    await adapter('DeviceCode').upsert(id, { jti: id, userCode, grantId: 'g' }, 60);
    expect(await adapter('DeviceCode').findByUserCode(userCode)).toEqual({ jti: id, userCode, grantId: 'g' });
    expect(await adapter('DeviceCode').findByUserCode('NOPE-NOPE')).toBeUndefined();

    await adapter('DeviceCode').upsert(id, { jti: id, userCode }, -1);
    expect(await adapter('DeviceCode').findByUserCode(userCode)).toBeUndefined();
  });

  test('consume marks the payload consumed, in epoch seconds, and leaves the rest as it was', async () => {
    const id = newId();
    await adapter('AuthorizationCode').upsert(id, { jti: id, grantId: 'g', scope: 'openid' }, 60);
    const before = Math.floor(Date.now() / 1000);
    await adapter('AuthorizationCode').consume(id);
    const found = await adapter('AuthorizationCode').find(id);
    expect(found).toEqual({ jti: id, grantId: 'g', scope: 'openid', consumed: expect.any(Number) });
    expect(Number.isInteger(found!.consumed)).toBe(true);
    expect(Math.abs(found!.consumed - before)).toBeLessThan(30);
    expect((await storedRow('AuthorizationCode', id))!.consumed_at).not.toBeNull();
  });

  test('a consumed row stays consumed when oidc-provider saves it again', async () => {
    const id = newId();
    await adapter('RefreshToken').upsert(id, { jti: id, rotations: 0 }, 60);
    await adapter('RefreshToken').consume(id);
    await adapter('RefreshToken').upsert(id, { jti: id, rotations: 1 }, 60);
    expect(await adapter('RefreshToken').find(id)).toEqual({ jti: id, rotations: 1, consumed: expect.any(Number) });
  });

  test('destroy removes the row; destroying an unknown id changes nothing', async () => {
    const [id, kept] = [newId(), newId()];
    await adapter('Grant').upsert(id, { jti: id }, 60);
    await adapter('Grant').upsert(kept, { jti: kept }, 60);
    await adapter('Grant').destroy(id);
    await adapter('Grant').destroy(newId());
    expect(await adapter('Grant').find(id)).toBeUndefined();
    expect(await storedRow('Grant', id)).toBeUndefined();
    expect(await adapter('Grant').find(kept)).toEqual({ jti: kept });
  });

  test('revokeByGrantId removes the grant\'s tokens and codes, and nothing of another grant or model', async () => {
    const [grantId, otherGrant] = [newId(), newId()];
    const ids = { at: newId(), rt: newId(), code: newId(), otherAt: newId(), interaction: newId() };
    await adapter('AccessToken').upsert(ids.at, { jti: ids.at, grantId }, 60);
    await adapter('RefreshToken').upsert(ids.rt, { jti: ids.rt, grantId }, 60);
    await adapter('AuthorizationCode').upsert(ids.code, { jti: ids.code, grantId }, 60);
    await adapter('AccessToken').upsert(ids.otherAt, { jti: ids.otherAt, grantId: otherGrant }, 60);
    await adapter('Interaction').upsert(ids.interaction, { jti: ids.interaction, grantId }, 60);
    await adapter('Grant').upsert(grantId, { jti: grantId, accountId: 'acc-1' }, 60);

    await adapter('RefreshToken').revokeByGrantId(grantId);

    expect(await adapter('AccessToken').find(ids.at)).toBeUndefined();
    expect(await adapter('RefreshToken').find(ids.rt)).toBeUndefined();
    expect(await adapter('AuthorizationCode').find(ids.code)).toBeUndefined();
    expect(await adapter('AccessToken').find(ids.otherAt)).toEqual({ jti: ids.otherAt, grantId: otherGrant });
    // oidc-provider destroys the Grant itself when its policy says so; an Interaction is no token.
    expect(await adapter('Interaction').find(ids.interaction)).toBeDefined();
    expect(await adapter('Grant').find(grantId)).toBeDefined();
  });

  test('upsert replaces the payload, its expiry and its secondary keys', async () => {
    const [id, oldGrant, newGrant] = [newId(), newId(), newId()];
    await adapter('AccessToken').upsert(id, { jti: id, grantId: oldGrant, scope: 'openid email' }, 60);
    await adapter('AccessToken').upsert(id, { jti: id, grantId: newGrant });
    expect(await adapter('AccessToken').find(id)).toEqual({ jti: id, grantId: newGrant });
    expect(await storedRow('AccessToken', id)).toMatchObject({ grant_id: newGrant, expires_at: null });

    await adapter('AccessToken').revokeByGrantId(oldGrant);
    expect(await adapter('AccessToken').find(id)).toBeDefined();
    await adapter('AccessToken').revokeByGrantId(newGrant);
    expect(await adapter('AccessToken').find(id)).toBeUndefined();
  });
});

describe('attacks and races', () => {
  test('a code redeemed by two nodes at once is consumed by exactly one; the other gets invalid_grant', async () => {
    const id = newId();
    await adapter('AuthorizationCode').upsert(id, { jti: id, grantId: 'g' }, 60);
    const results = await Promise.allSettled([adapter('AuthorizationCode', Node1).consume(id), adapter('AuthorizationCode', Node2).consume(id)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(errors.InvalidGrant);
    await expect(adapter('AuthorizationCode').consume(id)).rejects.toBeInstanceOf(errors.InvalidGrant);
    await expect(adapter('AuthorizationCode').consume(newId())).rejects.toBeInstanceOf(errors.InvalidGrant);
  });

  test('a pushed authorization request used twice is refused as an invalid request_uri', async () => {
    const id = newId();
    await adapter('PushedAuthorizationRequest').upsert(id, { jti: id }, 60);
    await adapter('PushedAuthorizationRequest').consume(id);
    await expect(adapter('PushedAuthorizationRequest').consume(id)).rejects.toBeInstanceOf(errors.InvalidRequestUri);
  });

  test('ids a client sends with a NUL character find nothing instead of failing', async () => {
    const evil = `${newId()}\u0000' OR true --`;
    expect(await adapter('AccessToken').find(evil)).toBeUndefined();
    expect(await adapter('Session').findByUid(evil)).toBeUndefined();
    expect(await adapter('DeviceCode').findByUserCode(evil)).toBeUndefined();
    await expect(adapter('AccessToken').destroy(evil)).resolves.toBeUndefined();
    await expect(adapter('AccessToken').revokeByGrantId(evil)).resolves.toBeUndefined();
    await expect(adapter('AuthorizationCode').consume(evil)).rejects.toBeInstanceOf(errors.InvalidGrant);
  });

  test('an authorization request whose state holds a NUL character is stored, not a server error', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const provider = new Provider('http://127.0.0.1/oidc', {
      adapter: Node1,
      jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] },
      clients: [{ client_id: 'rp', client_secret: 'a'.repeat(40), redirect_uris: ['https://rp.example/cb'], id_token_signed_response_alg: 'ES256' }],
      features: { devInteractions: { enabled: false } },
      ttl: { Interaction: 600 },
    });
    const server = http.createServer(provider.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const query = new URLSearchParams({
        client_id: 'rp', response_type: 'code', redirect_uri: 'https://rp.example/cb', scope: 'openid',
        state: 'x\u0000y', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
      });
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/auth?${query}`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      const uid = res.headers.get('location')!.split('/').pop()!;
      expect(await adapter('Interaction', Node2).find(uid)).toMatchObject({ params: { state: 'x\u0000y' } });
    } finally {
      server.close();
    }
  });
});

describe('several nodes', () => {
  // Two adapters over one database stand in for two nodes here (two pools on PostgreSQL);
  // real two-process tests come with the provider wiring.
  test('a flow started through one node continues through another', async () => {
    const [sessionId, uid, grantId, code] = [newId(), newId(), newId(), newId()];
    await adapter('Session', Node1).upsert(sessionId, { jti: sessionId, uid, accountId: 'acc-2' }, 600);
    await adapter('AuthorizationCode', Node1).upsert(code, { jti: code, grantId }, 60);

    expect(await adapter('Session', Node2).findByUid(uid)).toMatchObject({ jti: sessionId, accountId: 'acc-2' });
    await adapter('AuthorizationCode', Node2).consume(code);
    expect(await adapter('AuthorizationCode', Node1).find(code)).toMatchObject({ consumed: expect.any(Number) });
    await adapter('AccessToken', Node1).revokeByGrantId(grantId);
    expect(await adapter('AuthorizationCode', Node2).find(code)).toBeUndefined();
  });
});

describe('the expiry sweeper', () => {
  const logger = pino({ level: 'silent' });

  test('sweepOnce deletes only expired rows, batch by batch, and reports how many', async () => {
    const sweeper = new ExpirySweeper({ db: t.db, logger, batchSize: 2 });
    await sweeper.sweepOnce(); // rows earlier tests left expired
    const expired = [newId(), newId(), newId(), newId(), newId()];
    const live = [newId(), newId()];
    for (const id of expired) await adapter('AccessToken').upsert(id, { jti: id }, -5);
    for (const id of live) await adapter('AccessToken').upsert(id, { jti: id }, 600);
    const forever = newId();
    await adapter('Grant').upsert(forever, { jti: forever });

    const deleted = await sweeper.sweepOnce();
    // This file's embedded database is its own; a shared PostgreSQL one may get expired rows from
    // other test files at any time, so there the count can only be a lower bound.
    if (second) expect(deleted).toBeGreaterThanOrEqual(expired.length);
    else expect(deleted).toBe(expired.length);
    for (const id of expired) expect(await storedRow('AccessToken', id)).toBeUndefined();
    for (const id of live) expect(await storedRow('AccessToken', id)).toBeDefined();
    expect(await storedRow('Grant', forever)).toBeDefined();
  });

  test('sign-in counters of long-lapsed windows are swept; current ones stay', async () => {
    const [old, recent] = [`account:old-${newId()}@example.test`, `account:recent-${newId()}@example.test`];
    await t.db.withoutOrg(async (em) => {
      await em.execute(`INSERT INTO sign_in_attempts (key, window_start, failures) VALUES (?, now() - interval '2 days', 3), (?, now() - interval '10 minutes', 2)`, [old, recent]);
    });
    await new ExpirySweeper({ db: t.db, logger }).sweepOnce();
    const left = await t.db.withoutOrg((em) => em.execute<{ key: string }[]>('SELECT key FROM sign_in_attempts WHERE key IN (?)', [[old, recent]]));
    expect(left.map((r) => r.key)).toEqual([recent]);
  });

  test('a started sweeper deletes expired rows on its own until stopped', async () => {
    const id = newId();
    await adapter('Session').upsert(id, { jti: id, uid: newId() }, -1);
    const sweeper = new ExpirySweeper({ db: t.db, logger, intervalMs: 20 });
    sweeper.start();
    try {
      for (let i = 0; i < 100 && (await storedRow('Session', id)); i++) await sleep(20);
      expect(await storedRow('Session', id)).toBeUndefined();
    } finally {
      await sweeper.stop();
    }
  });
});
