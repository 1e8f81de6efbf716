import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { refusalsOf } from '../helpers/snapshot.ts';

let t: TestApp;
let org: TestOrg;
const expectRefused = refusalsOf(() => t);

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

const accounts = () => `/api/v1/orgs/${org.orgId}/service-accounts`;

test('a service account is created with its secret shown once and stored sealed', async () => {
  const res = await org.owner.api('POST', accounts(), { name: 'billing sync', role: 'viewer' });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ name: 'billing sync', role: 'viewer', clientId: expect.stringMatching(/^sa_[0-9a-f]{24}$/), revokedAt: null });
  expect(res.body.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const [row] = await t.db.inOrg(org.orgId, (em) => em.execute<{ secret: string }[]>('SELECT secret FROM service_accounts WHERE id = ?', [res.body.id]));
  expect(row!.secret.startsWith('v1.')).toBe(true);
  expect(row!.secret).not.toContain(res.body.clientSecret);
  expect(t.app.services.secrets.open(row!.secret, res.body.clientId)).toBe(res.body.clientSecret);
  const list = await org.owner.api('GET', accounts());
  expect(list.body.data).toEqual([expect.objectContaining({ id: res.body.id })]);
  expect(JSON.stringify(list.body)).not.toContain(res.body.clientSecret);
});

test('revoking marks it revoked and audits it', async () => {
  const created = await org.owner.api('POST', accounts(), { name: 'temp', role: 'viewer' });
  const res = await org.owner.api('DELETE', `${accounts()}/${created.body.id}`);
  expect(res.status).toBe(200);
  expect(res.body.revokedAt).not.toBeNull();
  const events = await t.db.inOrg(org.orgId, (em) => em.execute<{ type: string }[]>(
    'SELECT type FROM audit_events WHERE target_id = ? ORDER BY seq', [created.body.id]));
  expect(events.map((e) => e.type)).toEqual(['service_account.created', 'service_account.revoked']);
});

test('an unknown role answers 400 and changes nothing', async () => {
  await expectRefused(org, () => org.owner.api('POST', accounts(), { name: 'x', role: 'nope' }), 400, 'request.invalid');
});

test('an admin cannot make an owner-role service account', async () => {
  const admin = await addMember(t, org.orgId, 'admin');
  await expectRefused(org, () => admin.api('POST', accounts(), { name: 'x', role: 'owner' }), 403, 'role.above_caller');
});

test('a member cannot create or list service accounts', async () => {
  const member = await addMember(t, org.orgId, 'member');
  await expectRefused(org, () => member.api('POST', accounts(), { name: 'x', role: 'viewer' }), 403, 'auth.forbidden');
  expect((await member.api('GET', accounts())).status).toBe(403);
});

test('revoking an unknown service account answers 404', async () => {
  await expectRefused(org, () => org.owner.api('DELETE', `${accounts()}/00000000-0000-7000-8000-000000000000`), 404, 'service_account.not_found');
});

describe('workspaces', () => {
  test('a service account bound to a workspace shows it; an unbound one shows null', async () => {
    const workspace = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/workspaces`, { name: `robots ${Date.now()}` });
    const bound = await org.owner.api('POST', accounts(), { name: 'bound', role: 'viewer', workspaceId: workspace.body.id });
    expect(bound.status).toBe(201);
    expect(bound.body.workspaceId).toBe(workspace.body.id);
    const list = await org.owner.api('GET', `${accounts()}?limit=200`);
    expect(list.body.data.find((a: { id: string }) => a.id === bound.body.id).workspaceId).toBe(workspace.body.id);
    expect((await org.owner.api('POST', accounts(), { name: 'unbound', role: 'viewer' })).body.workspaceId).toBeNull();
  });

  test('an unknown workspace answers 400 and changes nothing', async () => {
    const res = await expectRefused(org, () => org.owner.api('POST', accounts(), { name: 'x', role: 'viewer', workspaceId: '00000000-0000-7000-8000-000000000000' }), 400, 'request.invalid');
    expect(res.body.errors[0].field).toBe('body.workspaceId');
  });

  test('another org\'s workspace answers 400 and changes nothing', async () => {
    const other = await createOrg(t);
    const foreign = await other.owner.api('POST', `/api/v1/orgs/${other.orgId}/workspaces`, { name: 'production' });
    await expectRefused(org, () => org.owner.api('POST', accounts(), { name: 'x', role: 'viewer', workspaceId: foreign.body.id }), 400, 'request.invalid');
  });
});
