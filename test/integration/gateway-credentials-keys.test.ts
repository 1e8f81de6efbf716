import { jest } from '@jest/globals';
import { createPublicKey, randomBytes, randomUUID, verify, type JsonWebKey } from 'node:crypto';
import pino from 'pino';
import { AssertionSigner, assertionType } from '../../src/gateway/assertion.ts';
import { DenialLog } from '../../src/gateway/denials.ts';
import { gatewayResource, issuerUrl } from '../../src/oidc/provider.ts';
import { client, startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, keyFor, type TestOrg } from '../helpers/factories.ts';
import { gatewayNode, within, type GatewayNode } from '../helpers/gateway-node.ts';

// GatewayCredentials on org API keys (gh_<keyid>_<secret>), the batched usage counts, the
// denial log and the assertion, against the real app's database; two nodes with their own
// listening connections.
let t: TestApp;
let org: TestOrg;
let a: GatewayNode;
let b: GatewayNode;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  org = await createOrg(t);
  [a, b] = await Promise.all([gatewayNode(t), gatewayNode(t)]);
});
afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
  await t.close();
});

const bearer = (token: string) => `Bearer ${token}`;
const resolve = (node: GatewayNode, token: string) => Promise.resolve(node.credentials.resolve(bearer(token)));
const keyId = (token: string) => token.split('_')[1]!;
const sql = (query: string, params: unknown[] = []) => t.db.inOrg(org.orgId, (em) => em.execute(query, params));
const usageOf = async (token: string) => Number((await sql('SELECT usage_count FROM api_keys WHERE id = ?', [keyId(token)]) as { usage_count: string }[])[0]!.usage_count);

/** A rotation as the management API makes one: a new secret, the old one valid until `graceSql`. */
async function rotate(token: string, graceSql: string): Promise<string> {
  const secret = randomBytes(24).toString('hex');
  await sql(`UPDATE api_keys SET previous_secret_hash = secret_hash, secret_hash = ?, previous_secret_expires_at = ${graceSql}, rotated_at = now() WHERE id = ?`,
    [t.app.services.apiKeyTokens.hash(secret), keyId(token)]);
  return `gh_${keyId(token)}_${secret}`;
}

test('an API key gives what both its role and its creator\'s hold; a warm request answers synchronously', async () => {
  const admin = await addMember(t, org.orgId, 'admin');
  const viewerKey = await keyFor(t, org.orgId, admin.userId, 'viewer');
  const principal = await resolve(a, viewerKey);
  expect(principal).toMatchObject({ orgId: org.orgId, orgSlug: org.slug, userId: admin.userId, role: 'viewer', workspaceId: null, credential: { type: 'api_key', id: keyId(viewerKey) }, expiresAt: Infinity });
  expect(principal!.permissions.has('org:read')).toBe(true);
  expect(principal!.permissions.has('members:invite')).toBe(false);
  expect(a.credentials.resolve(bearer(viewerKey))).toBe(principal);
  // An admin's owner-role key is capped at what the admin holds.
  await sql('UPDATE api_keys SET role = ? WHERE id = ?', ['owner', keyId(viewerKey)]);
  const capped = await within(1000, async () => (await resolve(a, viewerKey))?.role === 'owner', 'the new key role');
  expect(capped).toBeLessThan(1000);
  expect((await resolve(a, viewerKey))!.permissions.has('org:delete')).toBe(false);
});

test('wrong secret: refused, and nothing is counted', async () => {
  const key = await keyFor(t, org.orgId, org.owner.userId, 'member');
  expect(await resolve(a, key)).not.toBeNull(); // the row is cached now
  const wrong = `gh_${keyId(key)}_${randomBytes(24).toString('hex')}`;
  expect(await resolve(a, wrong)).toBeNull();
  expect(await resolve(a, `gh_${randomBytes(8).toString('hex')}_${randomBytes(24).toString('hex')}`)).toBeNull(); // unknown id
  expect(await resolve(a, `${key}0`)).toBeNull(); // not shaped like a key
  await a.usage.flushOnce();
  expect(await usageOf(key)).toBe(1);
});

test('API key revoked: refused on both nodes within a second', async () => {
  const key = await keyFor(t, org.orgId, org.owner.userId, 'member');
  expect(await resolve(a, key)).not.toBeNull();
  expect(await resolve(b, key)).not.toBeNull();
  expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/api-keys/${keyId(key)}`)).status).toBe(200);
  await within(1000, async () => (await resolve(a, key)) === null, 'node a');
  await within(1000, async () => (await resolve(b, key)) === null, 'node b');
});

test('an expired key is refused, also while it is cached', async () => {
  const key = await keyFor(t, org.orgId, org.owner.userId, 'member');
  await sql(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ?`, [keyId(key)]);
  expect(await resolve(a, key)).toBeNull();
  const soon = await keyFor(t, org.orgId, org.owner.userId, 'member');
  await sql(`UPDATE api_keys SET expires_at = now() + interval '2 seconds' WHERE id = ?`, [keyId(soon)]);
  const later = await gatewayNode(t, { now: () => Date.now() + 5_000 });
  try {
    expect(await resolve(later, soon)).toBeNull();
    expect((await resolve(a, soon))?.expiresAt).toBeGreaterThan(Date.now());
  } finally {
    await later.stop();
  }
});

test('creator removed: the keys they created stop working on both nodes within a second', async () => {
  const member = await addMember(t, org.orgId, 'member');
  expect(await resolve(a, member.key)).not.toBeNull();
  expect(await resolve(b, member.key)).not.toBeNull();
  expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${member.userId}`)).status).toBe(204);
  await within(1000, async () => (await resolve(a, member.key)) === null, 'node a');
  await within(1000, async () => (await resolve(b, member.key)) === null, 'node b');
});

test('rotation grace: old and new secrets both work (gateway and management API); after the grace only the new one', async () => {
  const key = await keyFor(t, org.orgId, org.owner.userId, 'admin');
  expect(await resolve(a, key)).not.toBeNull();
  const rotated = await rotate(key, `now() + interval '1 hour'`);
  await within(1000, async () => (await resolve(a, rotated)) !== null, 'the new secret');
  expect(await resolve(a, key)).not.toBeNull();
  expect((await client(t.url, key)('GET', `/api/v1/orgs/${org.orgId}`)).status).toBe(200);
  expect((await client(t.url, rotated)('GET', `/api/v1/orgs/${org.orgId}`)).status).toBe(200);
  await sql(`UPDATE api_keys SET previous_secret_expires_at = now() - interval '1 second' WHERE id = ?`, [keyId(key)]);
  await within(1000, async () => (await resolve(a, key)) === null, 'the old secret to be refused');
  expect(await resolve(b, key)).toBeNull();
  expect(await resolve(a, rotated)).not.toBeNull();
  expect((await client(t.url, key)('GET', `/api/v1/orgs/${org.orgId}`)).status).toBe(401);
  expect((await client(t.url, rotated)('GET', `/api/v1/orgs/${org.orgId}`)).status).toBe(200);
  // The grace ends by the clock too, without any announcement.
  const again = await rotate(rotated, `now() + interval '2 seconds'`);
  let skew = 0;
  const clocked = await gatewayNode(t, { now: () => Date.now() + skew });
  try {
    expect(await resolve(clocked, again)).not.toBeNull();
    expect(await resolve(clocked, rotated)).not.toBeNull(); // matched once: kept beside the cached row
    expect(clocked.credentials.resolve(bearer(rotated))).not.toBeInstanceOf(Promise);
    skew = 5_000;
    expect(clocked.credentials.resolve(bearer(rotated))).toBeNull();
    expect(clocked.credentials.resolve(bearer(again))).not.toBeNull();
  } finally {
    await clocked.stop();
  }
});

test('workspaces: a bound key reaches its workspace only if its creator does; a limited member reaches the listed ones', async () => {
  const [w1, w2] = [randomUUID(), randomUUID()];
  await sql('INSERT INTO workspaces (id, org_id, name) VALUES (?, ?, ?), (?, ?, ?)', [w1, org.orgId, `prod-${w1}`, w2, org.orgId, `stage-${w2}`]);
  const limited = await addMember(t, org.orgId, 'member');
  // Keys made before the member was limited; one bound to a workspace they no longer reach.
  const [inside, outside] = [await keyFor(t, org.orgId, limited.userId, 'member'), await keyFor(t, org.orgId, limited.userId, 'member')];
  await sql('UPDATE memberships SET workspaces_limited = true WHERE org_id = ? AND user_id = ?', [org.orgId, limited.userId]);
  await sql('INSERT INTO workspace_members (org_id, workspace_id, user_id) VALUES (?, ?, ?)', [org.orgId, w1, limited.userId]);
  await sql('UPDATE api_keys SET workspace_id = ? WHERE id = ?', [w1, keyId(inside)]);
  await sql('UPDATE api_keys SET workspace_id = ? WHERE id = ?', [w2, keyId(outside)]);
  await within(1000, async () => (await resolve(a, limited.key))?.workspaceIds.has(w1) === true, 'the limited reach');
  expect([...(await resolve(a, limited.key))!.workspaceIds]).toEqual([w1]);
  expect(await resolve(a, inside)).toMatchObject({ workspaceId: w1, workspaceIds: new Set([w1]) });
  expect(await resolve(a, outside)).toMatchObject({ workspaceId: w2, workspaceIds: new Set() });
  const ownerPrincipal = await resolve(a, org.owner.key);
  expect(ownerPrincipal!.workspaceIds.has(w1) && ownerPrincipal!.workspaceIds.has(w2)).toBe(true);
});

test('usage counts are batched: N requests, one flush, usage_count = N and a last-used time', async () => {
  const key = await keyFor(t, org.orgId, org.owner.userId, 'member');
  for (let i = 0; i < 25; i++) await resolve(a, key);
  expect(await usageOf(key)).toBe(0); // nothing written per request
  await a.usage.flushOnce();
  expect(await usageOf(key)).toBe(25);
  const [row] = await sql('SELECT last_used_at FROM api_keys WHERE id = ?', [keyId(key)]) as { last_used_at: Date }[];
  expect(Date.now() - new Date(row!.last_used_at).getTime()).toBeLessThan(60_000);
  // The flush is bookkeeping, not a change: the cached key stays (no announcement empties caches).
  expect(a.credentials.resolve(bearer(key))).not.toBeInstanceOf(Promise);
  await a.usage.flushOnce();
  expect(await usageOf(key)).toBe(26);
});

test('the management API counts API key uses in the same batches', async () => {
  const key = await keyFor(t, org.orgId, org.owner.userId, 'member');
  for (let i = 0; i < 3; i++) expect((await client(t.url, key)('GET', `/api/v1/orgs/${org.orgId}`)).status).toBe(200);
  await t.app.apiKeyUsage.flushOnce();
  expect(await usageOf(key)).toBe(3);
});

test('denials: one flush writes one gateway.denied audit event per org with counts and samples, none for an org-less denial', async () => {
  const other = await createOrg(t);
  const denials = new DenialLog({ db: t.db, logger: pino({ level: 'silent' }) }, { samplesPerOrg: 2 });
  const sample = (path: string) => ({ method: 'GET', path, ip: '127.0.0.1', credential: { type: 'api_key', id: 'k1' } });
  for (let i = 0; i < 5; i++) denials.record(org.orgId, 'forbidden', sample(`/orgs/${org.orgId}/agents/${i}`));
  denials.record(org.orgId, 'rate_limited', sample('/x'));
  denials.record(other.orgId, 'not_found', sample('/y'));
  denials.record(null, 'unauthenticated', { method: 'GET', path: '/z', ip: null });
  const events = (orgId: string) => t.db.inOrg(orgId, (em) => em.execute<{ type: string; actor_type: string; after: any }[]>(
    `SELECT type, actor_type, after FROM audit_events WHERE org_id = ? AND type = 'gateway.denied'`, [orgId]));
  expect(await events(org.orgId)).toHaveLength(0); // nothing per request
  await denials.flushOnce();
  const [mine, ...more] = await events(org.orgId);
  expect(more).toHaveLength(0);
  expect(mine).toMatchObject({ actor_type: 'system', after: { count: 6, byReason: { forbidden: 5, rate_limited: 1 } } });
  expect(mine!.after.samples).toHaveLength(2);
  expect(mine!.after.samples[0]).toMatchObject({ method: 'GET', path: `/orgs/${org.orgId}/agents/0`, credential: { type: 'api_key', id: 'k1' }, ip: '127.0.0.1' });
  expect(await events(other.orgId)).toEqual([expect.objectContaining({ after: expect.objectContaining({ count: 1, byReason: { not_found: 1 } }) })]);
  await denials.flushOnce(); // nothing new: nothing written
  expect(await events(org.orgId)).toHaveLength(1);
});

test('the assertion verifies with node:crypto against the published JWKS and states the principal', async () => {
  const signer = new AssertionSigner(a.keys, { issuer: issuerUrl(t.config), audience: gatewayResource(t.config) });
  const principal = (await resolve(a, org.owner.key))!;
  const assertion = await signer.assertionFor(principal);
  expect(signer.assertionFor(principal)).toBe(assertion); // cached: the same string, synchronously
  const [h, p, s] = assertion.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; typ: string; kid: string };
  expect(header).toMatchObject({ alg: 'ES256', typ: assertionType });
  const jwks = await (await fetch(`${issuerUrl(t.config)}/jwks`)).json() as { keys: Array<JsonWebKey & { kid: string }> };
  const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  expect(ok).toBe(true);
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  expect(claims).toEqual({
    iss: issuerUrl(t.config), aud: gatewayResource(t.config), sub: org.owner.userId, org_id: org.orgId, role: 'owner',
    permissions: [...principal.permissions].sort(), credential: { type: 'api_key', id: keyId(org.owner.key) }, workspace_id: null,
    iat: expect.any(Number), exp: expect.any(Number),
  });
  expect(claims.exp - claims.iat).toBeLessThanOrEqual(60);
  expect(claims.exp * 1000).toBeGreaterThan(Date.now());
  // A tampered payload fails the same check.
  const forged = Buffer.from(JSON.stringify({ ...claims, org_id: randomUUID() })).toString('base64url');
  expect(verify('sha256', Buffer.from(`${h}.${forged}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))).toBe(false);
});

test('a reloaded route policy is applied at once: principals built under the old one are forgotten', async () => {
  const policies = [
    { declared: new Set(['agents:read', 'agents:write']), ofBuiltinRole: (role: string) => (role === 'member' || role === 'owner' ? ['agents:read', 'agents:write'] : []) },
    { declared: new Set(['agents:read']), ofBuiltinRole: (role: string) => (role === 'member' || role === 'owner' ? ['agents:read'] : []) },
  ];
  let current = policies[0]!;
  const product = { get declared() { return current.declared; }, ofBuiltinRole: (role: string) => current.ofBuiltinRole(role) };
  const node = await gatewayNode(t, { product });
  try {
    const key = await keyFor(t, org.orgId, org.owner.userId, 'member');
    expect((await resolve(node, key))!.permissions.has('agents:write')).toBe(true);
    current = policies[1]!;
    const after = await resolve(node, key);
    expect(after!.permissions.has('agents:write')).toBe(false);
    expect(after!.permissions.has('agents:read')).toBe(true);
  } finally {
    await node.stop();
  }
});

test('announcements: org:<org> forgets that org only; an unknown payload forgets everything', async () => {
  const other = await createOrg(t);
  const mine = await keyFor(t, org.orgId, org.owner.userId, 'member');
  await resolve(a, mine);
  await resolve(a, other.owner.key);
  const announce = (payload: string) => t.db.withoutOrg((em) => em.execute(`SELECT pg_notify('gatehouse_gateway', ?)`, [payload]));
  const cached = (token: string) => !(a.credentials.resolve(bearer(token)) instanceof Promise);
  await announce(`org:${other.orgId}`);
  await within(1000, () => !cached(other.owner.key), 'the other org to be forgotten');
  expect(cached(mine)).toBe(true);
  await resolve(a, other.owner.key);
  await announce('something:new');
  await within(1000, () => !cached(mine) && !cached(other.owner.key), 'everything to be forgotten');
});

describe('unknown key ids are kept briefly: a stream of them costs one database read', () => {
  const unknownKey = (id = randomBytes(8).toString('hex')) => `gh_${id}_${randomBytes(24).toString('hex')}`;

  /** Reads of `id`'s row while `fn` runs (the repository spied on, not replaced). */
  async function keyReads(ids: string[], fn: () => Promise<void>): Promise<number> {
    const spy = jest.spyOn(t.app.services.platform, 'findApiKeyCredential');
    try {
      await fn();
      return spy.mock.calls.filter(([id]) => ids.includes(id)).length;
    } finally {
      spy.mockRestore();
    }
  }

  test('N requests with an unknown key id (any secret, concurrent or not) → 1 database read', async () => {
    const id = randomBytes(8).toString('hex');
    expect(await keyReads([id], async () => {
      const first = await Promise.all(Array.from({ length: 5 }, () => resolve(a, unknownKey(id))));
      expect(first).toEqual([null, null, null, null, null]);
      for (let i = 0; i < 20; i++) expect(a.credentials.resolve(bearer(unknownKey(id)))).toBeNull(); // synchronous: no lookup
    })).toBe(1);
  });

  test('a flood of unknown ids cannot push a good key out (refusals are bounded on their own), nor be kept past refusalTtlMs', async () => {
    let clock = Date.now();
    const node = await gatewayNode(t, { maxEntries: 10, maxRefusals: 3, refusalTtlMs: 5_000, now: () => clock });
    try {
      const good = await keyFor(t, org.orgId, org.owner.userId, 'member');
      const principal = await resolve(node, good);
      expect(principal).not.toBeNull();
      const ids = Array.from({ length: 10 }, () => randomBytes(8).toString('hex'));
      expect(await keyReads(ids, async () => {
        for (const id of ids) expect(await resolve(node, unknownKey(id))).toBeNull();
      })).toBe(10);
      expect(node.credentials.resolve(bearer(good))).toBe(principal); // still cached
      const [oldest, last] = [ids[0]!, ids[9]!];
      expect(await keyReads([oldest, last], async () => {
        expect(node.credentials.resolve(bearer(unknownKey(last)))).toBeNull(); // kept (among the newest 3): no read
        expect(await resolve(node, unknownKey(oldest))).toBeNull(); // the oldest went: read again
        clock += 5_001;
        expect(await resolve(node, unknownKey(last))).toBeNull(); // expired: read again
      })).toBe(2);
    } finally {
      await node.stop();
    }
  });

  test('a node that is not listening keeps no unknown id: every request reads', async () => {
    const deaf = await gatewayNode(t, { listen: false });
    try {
      const id = randomBytes(8).toString('hex');
      expect(await keyReads([id], async () => {
        for (let i = 0; i < 3; i++) expect(await resolve(deaf, unknownKey(id))).toBeNull();
      })).toBe(3);
    } finally {
      await deaf.stop();
    }
  });
});
