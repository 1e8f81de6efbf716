import { startApp, client, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { snapshot } from '../helpers/snapshot.ts';

let t: TestApp;
let org: TestOrg;

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

const keys = () => `/api/v1/orgs/${org.orgId}/api-keys`;

test('a created key is shown once, works, and only its hash is stored', async () => {
  const res = await org.owner.api('POST', keys(), { name: 'deploy bot', role: 'viewer' });
  expect(res.status).toBe(201);
  expect(res.body.key).toMatch(/^gh_[0-9a-f]{16}_[0-9a-f]{48}$/);
  expect(res.body.key.startsWith(`gh_${res.body.id}_`)).toBe(true);
  const use = await client(t.url, res.body.key)('GET', `/api/v1/orgs/${org.orgId}/members`);
  expect(use.status).toBe(200);
  const list = await org.owner.api('GET', keys());
  const listed = list.body.data.find((k: { id: string }) => k.id === res.body.id);
  expect(listed).toMatchObject({ name: 'deploy bot', role: 'viewer', revokedAt: null });
  expect(listed.key).toBeUndefined();
  expect(JSON.stringify(list.body)).not.toContain(res.body.key.split('_')[2]);
  const [row] = await t.db.inOrg(org.orgId, (em) => em.execute<{ secret_hash: string }[]>('SELECT secret_hash FROM api_keys WHERE id = ?', [res.body.id]));
  expect(row!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
  expect(res.body.key).not.toContain(row!.secret_hash);
});

test('a key records when it was last used and how often (written in batches)', async () => {
  const created = await org.owner.api('POST', keys(), { name: 'used', role: 'viewer' });
  await client(t.url, created.body.key)('GET', `/api/v1/orgs/${org.orgId}`);
  await client(t.url, created.body.key)('GET', `/api/v1/orgs/${org.orgId}`);
  await t.app.apiKeyUsage.flushOnce();
  const list = await org.owner.api('GET', `${keys()}?limit=200`);
  const listed = list.body.data.find((k: { id: string }) => k.id === created.body.id);
  expect(Date.parse(listed.lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
  expect(listed.usageCount).toBe(2);
});

test('a revoked key stops working at once', async () => {
  const created = await org.owner.api('POST', keys(), { name: 'short-lived', role: 'viewer' });
  const revoke = await org.owner.api('DELETE', `${keys()}/${created.body.id}`);
  expect(revoke.status).toBe(200);
  expect(revoke.body.revokedAt).not.toBeNull();
  const use = await client(t.url, created.body.key)('GET', `/api/v1/orgs/${org.orgId}`);
  expect(use.status).toBe(401);
});

test('an expired key is refused', async () => {
  const created = await org.owner.api('POST', keys(), { name: 'expiring', role: 'viewer', expiresAt: new Date(Date.now() + 60_000).toISOString() });
  await t.db.inOrg(org.orgId, (em) => em.execute(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ?`, [created.body.id]));
  const use = await client(t.url, created.body.key)('GET', `/api/v1/orgs/${org.orgId}`);
  expect(use.status).toBe(401);
});

test('a member creates and revokes their own keys but sees no one else\'s', async () => {
  const member = await addMember(t, org.orgId, 'member');
  const mine = await member.api('POST', keys(), { name: 'mine', role: 'member' });
  expect(mine.status).toBe(201);
  const list = await member.api('GET', keys());
  expect(list.body.data.every((k: { createdBy: string }) => k.createdBy === member.userId)).toBe(true);
  const ownerKeyId = org.owner.key.split('_')[1];
  const steal = await member.api('DELETE', `${keys()}/${ownerKeyId}`);
  expect(steal.status).toBe(404);
  expect((await member.api('DELETE', `${keys()}/${mine.body.id}`)).status).toBe(200);
});

test('a key cannot have a role above its creator\'s', async () => {
  const member = await addMember(t, org.orgId, 'member');
  const before = await snapshot(t, org.orgId);
  const res = await member.api('POST', keys(), { name: 'escalate', role: 'admin' });
  expect(res.status).toBe(403);
  expect(res.body.code).toBe('role.above_caller');
  expect(await snapshot(t, org.orgId)).toEqual(before);
});

test('an admin cannot revoke the owner\'s key', async () => {
  const admin = await addMember(t, org.orgId, 'admin');
  const ownerKeyId = org.owner.key.split('_')[1];
  const res = await admin.api('DELETE', `${keys()}/${ownerKeyId}`);
  expect(res.status).toBe(403);
  expect(res.body.code).toBe('member.above_caller');
});

test('removing a member revokes the keys they made in that org', async () => {
  const member = await addMember(t, org.orgId, 'member');
  const removed = await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${member.userId}`);
  expect(removed.status).toBe(204);
  const use = await member.api('GET', `/api/v1/orgs/${org.orgId}`);
  expect(use.status).toBe(401);
  const [row] = await t.db.inOrg(org.orgId, (em) => em.execute<{ n: string | number }[]>(
    'SELECT count(*) AS n FROM api_keys WHERE created_by = ? AND revoked_at IS NULL', [member.userId]));
  expect(Number(row!.n)).toBe(0);
});

test('a demoted creator\'s key loses what the creator lost', async () => {
  const admin = await addMember(t, org.orgId, 'admin');
  expect((await admin.api('PATCH', `/api/v1/orgs/${org.orgId}`, { name: 'By admin' })).status).toBe(200);
  await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/members/${admin.userId}`, { role: 'viewer' });
  const res = await admin.api('PATCH', `/api/v1/orgs/${org.orgId}`, { name: 'Still admin?' });
  expect(res.status).toBe(403);
});

test('a key made with an expiring key expires with it, and never later', async () => {
  const expiry = new Date(Date.now() + 3600_000);
  const short = await org.owner.api('POST', keys(), { name: 'short', role: 'admin', expiresAt: expiry.toISOString() });
  const shortApi = client(t.url, short.body.key);
  const child = await shortApi('POST', keys(), { name: 'child', role: 'viewer' });
  expect(child.status).toBe(201);
  expect(child.body.expiresAt).toBe(expiry.toISOString());
  const before = await snapshot(t, org.orgId);
  const later = await shortApi('POST', keys(), { name: 'immortal', role: 'viewer', expiresAt: new Date(Date.now() + 7200_000).toISOString() });
  expect(later.status).toBe(400);
  expect(later.body.errors[0].field).toBe('body.expiresAt');
  expect(await snapshot(t, org.orgId)).toEqual(before);
});

describe('bad input changes nothing', () => {
  const cases: [string, unknown, number, string][] = [
    ['unknown role', { name: 'x', role: 'superuser' }, 400, 'request.invalid'],
    ['missing name', { role: 'viewer' }, 400, 'request.invalid'],
    ['expiry in the past', { name: 'x', role: 'viewer', expiresAt: '2000-01-01T00:00:00Z' }, 400, 'request.invalid'],
    ['expiry not a date', { name: 'x', role: 'viewer', expiresAt: 'tomorrow' }, 400, 'request.invalid'],
    ['unknown field', { name: 'x', role: 'viewer', scopes: ['*'] }, 400, 'request.invalid'],
  ];
  test.each(cases)('%s', async (_name, body, status, code) => {
    const before = await snapshot(t, org.orgId);
    const res = await org.owner.api('POST', keys(), body);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('revoking an unknown key id answers 404', async () => {
    const res = await org.owner.api('DELETE', `${keys()}/0123456789abcdef`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('api_key.not_found');
  });

  test('a cursor that is not a key id answers 400', async () => {
    const res = await org.owner.api('GET', `${keys()}?cursor=${Buffer.from('abc').toString('base64url')}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.cursor');
  });

  test('a malformed key id answers 400', async () => {
    const res = await org.owner.api('DELETE', `${keys()}/nope`);
    expect(res.status).toBe(400);
  });
});

describe('authentication', () => {
  const cases: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['not a bearer token', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['not shaped like a key', { authorization: 'Bearer hello' }],
    ['unknown key id', { authorization: `Bearer gh_0000000000000000_${'0'.repeat(48)}` }],
  ];
  test.each(cases)('%s answers 401 with WWW-Authenticate', async (_name, headers) => {
    const res = await client(t.url)('GET', `/api/v1/orgs/${org.orgId}/members`, undefined, headers);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('auth.unauthenticated');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  test('a known key id with a wrong secret answers 401', async () => {
    const [, id] = org.owner.key.split('_');
    const res = await client(t.url, `gh_${id}_${'f'.repeat(48)}`)('GET', `/api/v1/orgs/${org.orgId}`);
    expect(res.status).toBe(401);
  });
});
