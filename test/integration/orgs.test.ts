import { randomUUID } from 'node:crypto';
import { startApp, client, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { snapshot } from '../helpers/snapshot.ts';

let t: TestApp;
let org: TestOrg;
// Slugs are global: a per-run suffix keeps these tests repeatable on a shared database.
const run = randomUUID().slice(0, 6);

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t, `Acme Widgets ${run}`);
});
afterAll(() => t.close());

const path = () => `/api/v1/orgs/${org.orgId}`;

test('GET /orgs lists the credential\'s org; GET /orgs/:orgId returns it', async () => {
  const list = await org.owner.api('GET', '/api/v1/orgs');
  expect(list.status).toBe(200);
  expect(list.body).toEqual({ data: [expect.objectContaining({ id: org.orgId, slug: `acme-widgets-${run}`, kind: 'team' })], nextCursor: null });
  const one = await org.owner.api('GET', path());
  expect(one.body).toMatchObject({ id: org.orgId, name: `Acme Widgets ${run}` });
});

test('POST /orgs creates an org owned by the calling user, with a derived unique slug and its own owner key', async () => {
  const first = await org.owner.api('POST', '/api/v1/orgs', { name: `Side Project ${run}` });
  const second = await org.owner.api('POST', '/api/v1/orgs', { name: `Side Project ${run}` });
  expect(first.status).toBe(201);
  expect(second.status).toBe(201);
  expect(first.body.slug).toBe(`side-project-${run}`);
  expect(second.body.slug).toMatch(new RegExp(`^side-project-${run}-[0-9a-f]{6}$`));
  const members = await client(t.url, first.body.apiKey)('GET', `/api/v1/orgs/${first.body.id}/members`);
  expect(members.body.data).toEqual([expect.objectContaining({ userId: org.owner.userId, role: 'owner', source: 'created' })]);
  // the calling key stays bound to its own org
  expect((await org.owner.api('GET', `/api/v1/orgs/${first.body.id}`)).status).toBe(404);
});

test.each(['admin', 'member', 'viewer'])('POST /orgs with a %s key answers 403 and creates nothing', async (role) => {
  const m = await addMember(t, org.orgId, role);
  const res = await m.api('POST', '/api/v1/orgs', { name: 'Squatter', slug: `squat-${role}-${run}` });
  expect(res.status).toBe(403);
  const taken = await org.owner.api('POST', '/api/v1/orgs', { name: 'Mine', slug: `squat-${role}-${run}` });
  expect(taken.status).toBe(201);
});

test('POST /orgs with a taken slug answers 409 org.slug_taken', async () => {
  const res = await org.owner.api('POST', '/api/v1/orgs', { name: 'Copycat', slug: org.slug });
  expect(res.status).toBe(409);
  expect(res.body.code).toBe('org.slug_taken');
});

test('PATCH renames the org and writes org.updated with before and after', async () => {
  const res = await org.owner.api('PATCH', path(), { name: 'Acme Renamed' });
  expect(res.status).toBe(200);
  expect(res.body.name).toBe('Acme Renamed');
  const events = await t.db.inOrg(org.orgId, (em) => em.execute<{ before: any; after: any }[]>(
    `SELECT before, after FROM audit_events WHERE type = 'org.updated' ORDER BY seq DESC LIMIT 1`));
  expect(events[0]!.before.name).toBe(`Acme Widgets ${run}`);
  expect(events[0]!.after.name).toBe('Acme Renamed');
});

describe('bad input changes nothing', () => {
  const cases: [string, string, unknown, Record<string, string>, number, string][] = [
    ['malformed JSON', 'PATCH', '{"name":', {}, 400, 'request.malformed'],
    ['unknown field', 'PATCH', { name: 'X', plan: 'enterprise' }, {}, 400, 'request.invalid'],
    ['missing fields (empty patch)', 'PATCH', {}, {}, 400, 'request.invalid'],
    ['wrong type', 'PATCH', { name: 42 }, {}, 400, 'request.invalid'],
    ['invalid slug', 'PATCH', { slug: 'Not A Slug!' }, {}, 400, 'request.invalid'],
    ['blank name', 'PATCH', { name: '   ' }, {}, 400, 'request.invalid'],
    ['oversized body', 'PATCH', JSON.stringify({ name: 'x'.repeat(200_000) }), {}, 413, 'request.too_large'],
    ['not JSON content type', 'PATCH', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'request.unsupported_media_type'],
    ['array body', 'PATCH', '[1,2]', {}, 400, 'request.invalid'],
  ];
  test.each(cases)('%s', async (_name, method, body, headers, status, code) => {
    const before = await snapshot(t, org.orgId);
    const res = await org.owner.api(method, path(), body, headers);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code, requestId: expect.any(String) });
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('validation errors name each bad field', async () => {
    const res = await org.owner.api('POST', '/api/v1/orgs', { name: 7, slug: 'UPPER', extra: true });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body', 'body.name', 'body.slug']);
  });

  test('unknown org id answers 404 org.not_found', async () => {
    const res = await org.owner.api('GET', '/api/v1/orgs/00000000-0000-7000-8000-000000000000');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('org.not_found');
  });

  test('a malformed org id answers 404, not 500', async () => {
    const res = await org.owner.api('GET', '/api/v1/orgs/not-a-uuid/members');
    expect(res.status).toBe(404);
  });

  test('a wrong method answers a 405 problem', async () => {
    const res = await org.owner.api('PUT', path(), { name: 'x' });
    expect(res.status).toBe(405);
    expect(res.body.code).toBe('request.method_not_allowed');
  });

  test.each([
    ['a NUL character', 'Acme\\u0000Corp'],
    ['an unpaired surrogate', 'Acme \\ud800'],
  ])('a name with %s answers 400 and changes nothing', async (_name, json) => {
    const before = await snapshot(t, org.orgId);
    const res = await org.owner.api('PATCH', path(), `{"name":"${json}"}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('body.name');
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('an unknown route answers a 404 problem', async () => {
    const res = await org.owner.api('GET', '/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('route.not_found');
  });
});

describe('ownership', () => {
  test('the owner transfers ownership; the old owner becomes admin', async () => {
    const o = await createOrg(t);
    const admin = await addMember(t, o.orgId, 'admin');
    const res = await o.owner.api('POST', `/api/v1/orgs/${o.orgId}/transfer-ownership`, { userId: admin.userId });
    expect(res.status).toBe(204);
    const members = await admin.api('GET', `/api/v1/orgs/${o.orgId}/members`);
    const roles = Object.fromEntries(members.body.data.map((m: { userId: string; role: string }) => [m.userId, m.role]));
    expect(roles).toEqual({ [o.owner.userId]: 'admin', [admin.userId]: 'owner' });
  });

  test('transfer to a non-member answers 404 and changes nothing', async () => {
    const o = await createOrg(t);
    const stranger = await createOrg(t);
    const before = await snapshot(t, o.orgId);
    const res = await o.owner.api('POST', `/api/v1/orgs/${o.orgId}/transfer-ownership`, { userId: stranger.owner.userId });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('member.not_found');
    expect(await snapshot(t, o.orgId)).toEqual(before);
  });

  test('the owner cannot remove themselves', async () => {
    const o = await createOrg(t);
    const before = await snapshot(t, o.orgId);
    const res = await o.owner.api('DELETE', `/api/v1/orgs/${o.orgId}/members/${o.owner.userId}`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('member.last_owner');
    expect(await snapshot(t, o.orgId)).toEqual(before);
  });

  test('the owner cannot demote themselves', async () => {
    const o = await createOrg(t);
    const res = await o.owner.api('PATCH', `/api/v1/orgs/${o.orgId}/members/${o.owner.userId}`, { role: 'admin' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('member.last_owner');
  });

  test('nobody is made owner by a role change', async () => {
    const o = await createOrg(t);
    const admin = await addMember(t, o.orgId, 'admin');
    const before = await snapshot(t, o.orgId);
    const res = await o.owner.api('PATCH', `/api/v1/orgs/${o.orgId}/members/${admin.userId}`, { role: 'owner' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('member.owner_by_transfer');
    expect(await snapshot(t, o.orgId)).toEqual(before);
  });

  test('a transfer racing a removal of the heir never leaves the org without its one owner', async () => {
    const o = await createOrg(t);
    const admin = await addMember(t, o.orgId, 'admin');
    const heir = await addMember(t, o.orgId, 'member');
    const [transfer, removal] = await Promise.all([
      o.owner.api('POST', `/api/v1/orgs/${o.orgId}/transfer-ownership`, { userId: heir.userId }),
      admin.api('DELETE', `/api/v1/orgs/${o.orgId}/members/${heir.userId}`),
    ]);
    expect([transfer.status, removal.status].sort()).toEqual(transfer.status === 204 ? [204, 403] : [204, 404]);
    const [row] = await t.db.inOrg(o.orgId, (em) => em.execute<{ n: string | number }[]>(`SELECT count(*) AS n FROM memberships WHERE role = 'owner'`));
    expect(Number(row!.n)).toBe(1);
  });

  test('two transfers at once: one wins, the other is refused, never a 500', async () => {
    const o = await createOrg(t);
    const a1 = await addMember(t, o.orgId, 'admin');
    const a2 = await addMember(t, o.orgId, 'admin');
    const results = await Promise.all([a1, a2].map((heir) =>
      o.owner.api('POST', `/api/v1/orgs/${o.orgId}/transfer-ownership`, { userId: heir.userId })));
    expect(results.map((r) => r.status).sort()).toEqual([204, 403]);
  });

  test('deleting the org removes it; its keys stop working', async () => {
    const o = await createOrg(t);
    const res = await o.owner.api('DELETE', `/api/v1/orgs/${o.orgId}`);
    expect(res.status).toBe(204);
    const after = await o.owner.api('GET', `/api/v1/orgs/${o.orgId}`);
    expect(after.status).toBe(401);
  });
});

test('a request id given by the caller is echoed and used; a bad one is replaced', async () => {
  const good = await client(t.url, org.owner.key)('GET', path(), undefined, { 'x-request-id': 'trace-123' });
  expect(good.headers.get('x-request-id')).toBe('trace-123');
  const bad = await client(t.url, org.owner.key)('GET', path(), undefined, { 'x-request-id': 'bad id with spaces' });
  expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});
