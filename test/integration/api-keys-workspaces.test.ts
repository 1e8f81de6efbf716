import { randomUUID } from 'node:crypto';
import { client, startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { refusalsOf } from '../helpers/snapshot.ts';

let t: TestApp;
let org: TestOrg;
let production: string;
let staging: string;
const expectRefused = refusalsOf(() => t);

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
  production = (await org.owner.api('POST', `${o()}/workspaces`, { name: 'production' })).body.id;
  staging = (await org.owner.api('POST', `${o()}/workspaces`, { name: 'staging' })).body.id;
});
afterAll(() => t.close());

function o() {
  return `/api/v1/orgs/${org.orgId}`;
}
const keys = () => `${o()}/api-keys`;

test('a key bound to a workspace shows it, and works on the management API', async () => {
  const res = await org.owner.api('POST', keys(), { name: 'prod deploy', role: 'viewer', workspaceId: production });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ workspaceId: production, usageCount: 0, rotatedAt: null, previousSecretExpiresAt: null });
  const list = await org.owner.api('GET', `${keys()}?limit=200`);
  expect(list.body.data.find((k: { id: string }) => k.id === res.body.id).workspaceId).toBe(production);
  expect((await client(t.url, res.body.key)('GET', o())).status).toBe(200);
});

test('an unbound key shows workspaceId null', async () => {
  const res = await org.owner.api('POST', keys(), { name: 'everywhere', role: 'viewer' });
  expect(res.body.workspaceId).toBeNull();
});

test('an unknown workspace answers 400 and changes nothing', async () => {
  const res = await expectRefused(org, () => org.owner.api('POST', keys(), { name: 'x', role: 'viewer', workspaceId: randomUUID() }), 400, 'request.invalid');
  expect(res.body.errors[0].field).toBe('body.workspaceId');
});

test('another org\'s workspace answers 400 and changes nothing', async () => {
  const other = await createOrg(t);
  const foreign = (await other.owner.api('POST', `/api/v1/orgs/${other.orgId}/workspaces`, { name: 'production' })).body.id;
  const res = await expectRefused(org, () => org.owner.api('POST', keys(), { name: 'x', role: 'viewer', workspaceId: foreign }), 400, 'request.invalid');
  expect(res.body.errors[0].field).toBe('body.workspaceId');
});

test('a workspace id that is not a uuid answers 400', async () => {
  await expectRefused(org, () => org.owner.api('POST', keys(), { name: 'x', role: 'viewer', workspaceId: 'production' }), 400, 'request.invalid');
});

describe('a member limited to some workspaces', () => {
  let member: Awaited<ReturnType<typeof addMember>>;
  beforeAll(async () => {
    member = await addMember(t, org.orgId, 'member');
    const limit = await org.owner.api('PUT', `${o()}/members/${member.userId}/workspaces`, { workspaceIds: [staging] });
    expect(limit.status).toBe(200);
  });

  test('binds a key to one of their workspaces', async () => {
    const res = await member.api('POST', keys(), { name: 'staging', role: 'member', workspaceId: staging });
    expect(res.status).toBe(201);
    expect(res.body.workspaceId).toBe(staging);
  });

  test('cannot bind a key to another workspace: 400, nothing changed', async () => {
    await expectRefused(org, () => member.api('POST', keys(), { name: 'prod', role: 'member', workspaceId: production }), 400, 'request.invalid');
  });

  test('cannot make an unbound key: 400, nothing changed', async () => {
    const res = await expectRefused(org, () => member.api('POST', keys(), { name: 'everywhere', role: 'member' }), 400, 'request.invalid');
    expect(res.body.errors[0].field).toBe('body.workspaceId');
  });
});

test('a key bound to a workspace makes keys only in that workspace', async () => {
  const bound = await org.owner.api('POST', keys(), { name: 'staging admin', role: 'admin', workspaceId: staging });
  const api = client(t.url, bound.body.key);
  await expectRefused(org, () => api('POST', keys(), { name: 'escape', role: 'viewer' }), 400, 'request.invalid');
  await expectRefused(org, () => api('POST', keys(), { name: 'escape', role: 'viewer', workspaceId: production }), 400, 'request.invalid');
  await expectRefused(org, () => api('POST', `${o()}/service-accounts`, { name: 'escape', role: 'viewer' }), 400, 'request.invalid');
  expect((await api('POST', keys(), { name: 'child', role: 'viewer', workspaceId: staging })).status).toBe(201);
});

describe('rotation stays within the caller\'s workspaces', () => {
  test('an admin limited to staging cannot rotate a production key or an unbound one (403), but rotates a staging key', async () => {
    const admin = await addMember(t, org.orgId, 'admin');
    await org.owner.api('PUT', `${o()}/members/${admin.userId}/workspaces`, { workspaceIds: [staging] });
    const colleague = await addMember(t, org.orgId, 'admin');
    const prod = await colleague.api('POST', keys(), { name: 'prod', role: 'viewer', workspaceId: production });
    const unbound = await colleague.api('POST', keys(), { name: 'unbound', role: 'viewer' });
    const stage = await colleague.api('POST', keys(), { name: 'stage', role: 'viewer', workspaceId: staging });
    await expectRefused(org, () => admin.api('POST', `${keys()}/${prod.body.id}/rotate`, {}), 403, 'workspace.above_caller');
    await expectRefused(org, () => admin.api('POST', `${keys()}/${unbound.body.id}/rotate`, {}), 403, 'workspace.above_caller');
    expect((await admin.api('POST', `${keys()}/${stage.body.id}/rotate`, {})).status).toBe(200);
  });

  test('a key bound to staging cannot rotate its maker\'s unbound key (403), but rotates itself', async () => {
    const unbound = await org.owner.api('POST', keys(), { name: 'unbound', role: 'admin' });
    const bound = await org.owner.api('POST', keys(), { name: 'bound', role: 'admin', workspaceId: staging });
    const api = client(t.url, bound.body.key);
    await expectRefused(org, () => api('POST', `${keys()}/${unbound.body.id}/rotate`, {}), 403, 'workspace.above_caller');
    expect((await api('POST', `${keys()}/${bound.body.id}/rotate`, {})).status).toBe(200);
  });
});
