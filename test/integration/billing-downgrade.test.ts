import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';
import { refusalsOf } from '../helpers/snapshot.ts';

// Security review M4, L3: what was allowed on a bigger plan is checked again against the plan the
// org has now (after a downgrade). Billing is on (Stripe itself is never called); a row set by SQL
// is the org's subscription. The shipped plans plus "pair" (2 seats, admin and member roles).

let t: TestApp;
const expectRefused = refusalsOf(() => t);

function plansFile(): string {
  const pair = `
  - key: pair
    name: Pair
    stripePriceId: price_pair_test
    seats: 2
    features: []
    roles: [owner, admin, member]
    auditRetentionDays: null
    gateway: { orgRateLimit: 0, keyRateLimit: 0 }
    apiKeyLimit: null
`;
  const path = join(mkdtempSync(join(tmpdir(), 'gh-plans-')), 'plans.yaml');
  writeFileSync(path, readFileSync(new URL('../../config/plans.example.yaml', import.meta.url), 'utf8') + pair);
  return path;
}

beforeAll(async () => {
  t = await startApp({
    STRIPE_SECRET_KEY: 'sk_test_downgrade', STRIPE_WEBHOOK_SECRET: 'whsec_downgrade', STRIPE_API_BASE: 'http://127.0.0.1:9',
    GATEHOUSE_PLANS: plansFile(),
  });
});
afterAll(async () => t?.close());

async function setPlan(org: TestOrg, plan: string, status = 'active'): Promise<void> {
  await t.db.inOrg(org.orgId, (em) => em.execute(
    `INSERT INTO org_billing (org_id, plan, status) VALUES (?, ?, ?)
     ON CONFLICT (org_id) DO UPDATE SET plan = excluded.plan, status = excluded.status, updated_at = now()`, [org.orgId, plan, status]));
}

async function invite(org: TestOrg, role: string): Promise<{ id: string; token: string }> {
  const res = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: uniqueEmail('invitee'), role });
  expect(res.status).toBe(201);
  return { id: res.body.id, token: (res.body.acceptUrl as string).split('/invitations/')[1]! };
}

const accept = (token: string) => client(t.url)('POST', `/api/v1/invitations/${token}/accept`, { password: 'correct horse battery staple' });

describe('M4: accepting an invitation after a downgrade', () => {
  test('M4: an invitation for a role the plan no longer offers is refused with plan.feature_unavailable; nothing joins', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'team');
    const { token } = await invite(org, 'viewer');
    await setPlan(org, 'starter');
    await expectRefused(org, () => accept(token), 402, 'plan.feature_unavailable');
  });

  test('M4: over the seat limit after a downgrade, accepting is refused with plan.seat_limit; at the limit it is not (no double count)', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'team');
    const first = await invite(org, 'member');
    const second = await invite(org, 'member');
    await setPlan(org, 'pair'); // owner + 2 pending invitations = 3 seats of 2
    await expectRefused(org, () => accept(first.token), 402, 'plan.seat_limit');
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/invitations/${second.id}`)).status).toBeLessThan(300);
    // owner + this pending invitation = 2 of 2: accepting turns the pending seat into a member
    expect(await accept(first.token)).toMatchObject({ status: 200, body: { orgId: org.orgId, role: 'member' } });
  });

  test('M4: the subscription ended (free: the owner only): a member invitation is refused', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'starter');
    const { token } = await invite(org, 'admin');
    await setPlan(org, 'starter', 'canceled');
    await expectRefused(org, () => accept(token), 402, 'plan.feature_unavailable');
  });
});

describe('L3: machine credentials and team members follow the plan', () => {
  test('L3: on free, an API key cannot be given a role the plan lacks (viewer, admin)', async () => {
    const org = await createOrg(t);
    for (const role of ['viewer', 'admin']) {
      await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: `${role} key`, role }), 402, 'plan.feature_unavailable');
    }
  });

  test('L3: on free, a service account cannot be given a role the plan lacks', async () => {
    const org = await createOrg(t);
    await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'robot', role: 'member' }), 402, 'plan.feature_unavailable');
  });

  test('L3: after a downgrade, a custom role made on team goes to no new API key or service account', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'team');
    const role = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/roles`, { key: 'auditor', name: 'Auditor', permissions: ['audit:read'] });
    expect(role.status).toBe(201);
    await setPlan(org, 'starter');
    await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: 'k', role: 'auditor' }), 402, 'plan.feature_unavailable');
    await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'robot', role: 'auditor' }), 402, 'plan.feature_unavailable');
  });

  test('L3: after a downgrade to free (no teams), a team takes no new member', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'starter');
    const team = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/teams`, { name: 'Platform' });
    expect(team.status).toBe(201);
    const member = await addMember(t, org.orgId, 'member');
    await setPlan(org, 'starter', 'canceled');
    await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/teams/${team.body.id}/members`, { userId: member.userId, role: 'member' }), 402, 'plan.feature_unavailable');
  });
});
