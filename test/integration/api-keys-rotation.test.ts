import { client, startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { auditEventsOf, refusalsOf } from '../helpers/snapshot.ts';

let t: TestApp;
let org: TestOrg;
const expectRefused = refusalsOf(() => t);

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

const o = () => `/api/v1/orgs/${org.orgId}`;
const keys = () => `${o()}/api-keys`;

async function newKey(api = org.owner.api, role = 'viewer'): Promise<{ id: string; key: string }> {
  const res = await api('POST', keys(), { name: 'to rotate', role });
  expect(res.status).toBe(201);
  return res.body;
}

/** Whether a token opens the management API. */
async function works(token: string): Promise<boolean> {
  const res = await client(t.url, token)('GET', o());
  expect([200, 401]).toContain(res.status);
  return res.status === 200;
}

test('rotating keeps the key id, shows the new secret once, and both secrets work during the grace period', async () => {
  const old = await newKey();
  const res = await org.owner.api('POST', `${keys()}/${old.id}/rotate`, {});
  expect(res.status).toBe(200);
  expect(res.body.id).toBe(old.id);
  expect(res.body.key).toMatch(new RegExp(`^gh_${old.id}_[0-9a-f]{48}$`));
  expect(res.body.key).not.toBe(old.key);
  expect(Date.parse(res.body.rotatedAt)).toBeGreaterThan(Date.now() - 60_000);
  const graceEnds = Date.parse(res.body.previousSecretExpiresAt) - Date.parse(res.body.rotatedAt);
  expect(graceEnds).toBe(86_400_000);
  expect(await works(res.body.key)).toBe(true);
  expect(await works(old.key)).toBe(true);
  const list = await org.owner.api('GET', `${keys()}?limit=200`);
  const listed = list.body.data.find((k: { id: string }) => k.id === old.id);
  expect(listed).toMatchObject({ id: old.id, rotatedAt: res.body.rotatedAt, previousSecretExpiresAt: res.body.previousSecretExpiresAt, usageCount: 0 });
  expect(listed.key).toBeUndefined();
  expect(JSON.stringify(list.body)).not.toContain(res.body.key.split('_')[2]);
  expect(JSON.stringify(list.body)).not.toMatch(/secretHash|secret_hash/i);
});

test('with gracePeriodSeconds 0 the old secret stops at once', async () => {
  const old = await newKey();
  const res = await org.owner.api('POST', `${keys()}/${old.id}/rotate`, { gracePeriodSeconds: 0 });
  expect(res.status).toBe(200);
  expect(res.body.previousSecretExpiresAt).toBeNull();
  expect(await works(old.key)).toBe(false);
  expect(await works(res.body.key)).toBe(true);
});

test('the old secret stops when its grace period is over', async () => {
  const old = await newKey();
  const res = await org.owner.api('POST', `${keys()}/${old.id}/rotate`, { gracePeriodSeconds: 3600 });
  await t.db.inOrg(org.orgId, (em) => em.execute(`UPDATE api_keys SET previous_secret_expires_at = now() - interval '1 second' WHERE id = ?`, [old.id]));
  expect(await works(old.key)).toBe(false);
  expect(await works(res.body.key)).toBe(true);
});

test('rotating twice within the grace period ends the first secret at once (one previous secret is kept)', async () => {
  const first = await newKey();
  const second = await org.owner.api('POST', `${keys()}/${first.id}/rotate`, {});
  const third = await org.owner.api('POST', `${keys()}/${first.id}/rotate`, {});
  expect(third.status).toBe(200);
  expect(await works(first.key)).toBe(false);
  expect(await works(second.body.key)).toBe(true);
  expect(await works(third.body.key)).toBe(true);
});

test('a rotation is audited without any secret', async () => {
  const old = await newKey();
  const res = await org.owner.api('POST', `${keys()}/${old.id}/rotate`, { gracePeriodSeconds: 60 });
  const [event] = (await auditEventsOf(t, org.orgId, 'api_key.rotated')).filter((e) => e.target_id === old.id);
  expect(event!.after).toMatchObject({ id: old.id, gracePeriodSeconds: 60, rotatedAt: res.body.rotatedAt });
  const stored = JSON.stringify(event);
  for (const secret of [old.key, res.body.key]) expect(stored).not.toContain(secret.split('_')[2]);
  const [row] = await t.db.inOrg(org.orgId, (em) => em.execute<{ secret_hash: string; previous_secret_hash: string }[]>(
    'SELECT secret_hash, previous_secret_hash FROM api_keys WHERE id = ?', [old.id]));
  expect(stored).not.toContain(row!.secret_hash);
  expect(stored).not.toContain(row!.previous_secret_hash);
});

test('a member rotates their own key', async () => {
  const member = await addMember(t, org.orgId, 'member');
  const mine = await newKey(member.api, 'member');
  const res = await member.api('POST', `${keys()}/${mine.id}/rotate`, {});
  expect(res.status).toBe(200);
  expect(await works(res.body.key)).toBe(true);
});

test('rotating someone else\'s key without api_keys:manage answers 404 and changes nothing', async () => {
  const member = await addMember(t, org.orgId, 'member');
  const ownerKeyId = org.owner.key.split('_')[1];
  await expectRefused(org, () => member.api('POST', `${keys()}/${ownerKeyId}/rotate`, {}), 404, 'api_key.not_found');
});

test('an admin cannot rotate the owner\'s key', async () => {
  const admin = await addMember(t, org.orgId, 'admin');
  const ownerKeyId = org.owner.key.split('_')[1];
  await expectRefused(org, () => admin.api('POST', `${keys()}/${ownerKeyId}/rotate`, {}), 403, 'member.above_caller');
});

test('a revoked key cannot be rotated (409) and stays revoked', async () => {
  const old = await newKey();
  await org.owner.api('DELETE', `${keys()}/${old.id}`);
  await expectRefused(org, () => org.owner.api('POST', `${keys()}/${old.id}/rotate`, {}), 409, 'api_key.revoked');
  expect(await works(old.key)).toBe(false);
});

test('an expired key cannot be rotated (409)', async () => {
  const old = await org.owner.api('POST', keys(), { name: 'expiring', role: 'viewer', expiresAt: new Date(Date.now() + 60_000).toISOString() });
  await t.db.inOrg(org.orgId, (em) => em.execute(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ?`, [old.body.id]));
  await expectRefused(org, () => org.owner.api('POST', `${keys()}/${old.body.id}/rotate`, {}), 409, 'api_key.expired');
});

describe('bad input changes nothing', () => {
  test.each([
    ['a negative grace period', { gracePeriodSeconds: -1 }],
    ['a grace period over a week', { gracePeriodSeconds: 604_801 }],
    ['a fractional grace period', { gracePeriodSeconds: 1.5 }],
    ['a grace period as a string', { gracePeriodSeconds: '60' }],
    ['an unknown field', { secret: 'mine' }],
  ])('%s answers 400', async (_name, body) => {
    const old = await newKey();
    await expectRefused(org, () => org.owner.api('POST', `${keys()}/${old.id}/rotate`, body), 400, 'request.invalid');
    expect(await works(old.key)).toBe(true);
  });

  test('an unknown key id answers 404', async () => {
    await expectRefused(org, () => org.owner.api('POST', `${keys()}/0123456789abcdef/rotate`, {}), 404, 'api_key.not_found');
  });
});

test('a lower-role key of the same creator cannot rotate that creator\'s higher-role key (its new secret would carry the role)', async () => {
  const memberKey = await newKey(org.owner.api, 'member');
  const ownerKeyId = org.owner.key.split('_')[1];
  await expectRefused(org, () => client(t.url, memberKey.key)('POST', `${keys()}/${ownerKeyId}/rotate`, { gracePeriodSeconds: 604800 }), 403, 'role.above_caller');
  expect(await works(org.owner.key)).toBe(true);
});

test('an expiring key cannot rotate a key that outlives it', async () => {
  const expiring = await org.owner.api('POST', keys(), { name: 'short', role: 'member', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
  expect(expiring.status).toBe(201);
  const lasting = await newKey(org.owner.api, 'member');
  await expectRefused(org, () => client(t.url, expiring.body.key)('POST', `${keys()}/${lasting.id}/rotate`, {}), 403, 'api_key.outlives_caller');
});
