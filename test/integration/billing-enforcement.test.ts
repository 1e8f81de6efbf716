import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { provisionSsoLogin } from '../../src/federation/jit.ts';
import { applyPlanEffects } from '../../src/modules/billing/plan-effects.ts';
import type { Connection } from '../../src/modules/connections/connection.entity.ts';
import { OrgScope } from '../../src/modules/scope.ts';
import { client, startApp, startAppAtPublicUrl, type Client, type TestApp } from '../helpers/app.ts';
import { FormAgent } from '../helpers/browser.ts';
import { freePort } from '../helpers/cli.ts';
import { createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';
import { startIdp, type TestIdp } from '../helpers/oidc-idp.ts';
import { createMember, redirectUri, relyingParty, testPassword, tokensFor } from '../helpers/sign-in.ts';
import { refusalsOf, snapshot } from '../helpers/snapshot.ts';
import { oidcConnection, verifiedDomain } from '../helpers/sso.ts';
import { rawRequest, routesFile, startUpstream } from '../helpers/upstream.ts';

// Issue 7 item 4: the plan is enforced by the services with a clear answer and nothing written.
// Billing is on (a Stripe key; Stripe itself is never called here), so an org without an
// org_billing row is on free and a row set by SQL is its subscription: a plan change counts
// from the next request (no cache). The shipped plans, plus "capped" (SSO and SCIM, 2 seats) so
// a SCIM seat limit can be reached.

const SCIM = 'application/scim+json';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let t: TestApp;
let rp: oidc.Configuration;
const expectRefused = refusalsOf(() => t);

function plansFile(): string {
  const capped = `
  - key: capped
    name: Capped
    stripePriceId: price_capped_test
    seats: 2
    features: [sso, scim]
    roles: [owner, admin, member]
    auditRetentionDays: null
    gateway: { orgRateLimit: 0, keyRateLimit: 0 }
    apiKeyLimit: null
`;
  const path = join(mkdtempSync(join(tmpdir(), 'gh-plans-')), 'plans.yaml');
  writeFileSync(path, readFileSync(new URL('../../config/plans.example.yaml', import.meta.url), 'utf8') + capped);
  return path;
}

beforeAll(async () => {
  t = await startAppAtPublicUrl({
    STRIPE_SECRET_KEY: 'sk_test_enforcement', STRIPE_WEBHOOK_SECRET: 'whsec_enforcement', STRIPE_API_BASE: 'http://127.0.0.1:9',
    GATEHOUSE_PLANS: plansFile(),
  });
  ({ rp } = await relyingParty(t));
});
afterAll(async () => t?.close());

/** The org's subscription as the webhook would store it. */
async function setPlan(org: TestOrg, plan: string, status = 'active'): Promise<void> {
  await t.db.inOrg(org.orgId, (em) => em.execute(
    `INSERT INTO org_billing (org_id, plan, status) VALUES (?, ?, ?)
     ON CONFLICT (org_id) DO UPDATE SET plan = excluded.plan, status = excluded.status, updated_at = now()`, [org.orgId, plan, status]));
}

/** A plan change as subscription sync makes it: the row, then the effects, in the org's transaction. */
async function changePlan(org: TestOrg, plan: string): Promise<void> {
  await setPlan(org, plan);
  await t.db.inOrg(org.orgId, (em) => applyPlanEffects(new OrgScope(org.orgId, em, null, { ip: null, userAgent: null, requestId: null }), t.app.services.plans.get(plan)!));
}

const auditTypes = (org: TestOrg, type: string) =>
  t.db.inOrg(org.orgId, (em) => em.execute<{ target_id: string; after: any }[]>('SELECT target_id, after FROM audit_events WHERE type = ? ORDER BY seq', [type]));

describe('seats', () => {
  test('over the seat limit an invitation is refused with 402 plan.seat_limit, and nothing is written', async () => {
    const org = await createOrg(t); // free: one seat, the owner's
    const email = uniqueEmail('invitee');
    const res = await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email, role: 'member' }), 402, 'plan.seat_limit');
    expect(res.body.detail).toContain('Free');
    const mail = await t.db.asPlatform((em) => em.execute('SELECT 1 FROM outbox_messages WHERE recipient = ?', [email]));
    expect(mail).toEqual([]);
  });

  test('a pending invitation holds a seat: the next one past the plan\'s seats is refused', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'capped'); // 2 seats: the owner and one invitation
    expect((await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: uniqueEmail(), role: 'member' })).status).toBe(201);
    await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: uniqueEmail(), role: 'member' }), 402, 'plan.seat_limit');
  });

  test('invitations racing for the last seat: exactly one gets it', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'capped'); // one seat left
    const answers = await Promise.all(Array.from({ length: 5 }, () =>
      org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: uniqueEmail(), role: 'member' })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 402, 402, 402, 402]);
    expect(await t.db.inOrg(org.orgId, (em) => em.execute('SELECT 1 FROM invitations'))).toHaveLength(1);
  });

  test('over the seat limit a SCIM create answers the SCIM error (402, detail naming plan.seat_limit) and writes nothing, account included', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'capped');
    const dir = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'IdP', defaultRole: 'member' });
    expect(dir.status).toBe(201);
    const scim = client(`${t.url}${new URL(dir.body.scimBaseUrl).pathname}`, dir.body.token);
    const create = (email: string) => scim('POST', '/Users', JSON.stringify({ schemas: [USER], userName: email, emails: [{ value: email, primary: true }] }), { 'content-type': SCIM });
    const first = await create(uniqueEmail('first'));
    expect(first.status).toBe(201);

    const email = uniqueEmail('second');
    const before = await snapshot(t, org.orgId);
    const refused = await create(email);
    expect(refused.status).toBe(402);
    expect(refused.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(refused.body).toMatchObject({ schemas: [ERROR], status: '402' });
    expect(refused.body.scimType).toBeUndefined();
    expect(refused.body.detail).toMatch(/^plan\.seat_limit: /);
    expect(await snapshot(t, org.orgId)).toEqual(before);
    expect(await t.db.withoutOrg((em) => em.execute('SELECT 1 FROM users WHERE email = ?', [email]))).toEqual([]);

    // Suspending frees the seat; reactivating when it has been taken again is refused likewise.
    const patch = (id: string, active: boolean) => scim('PATCH', `/Users/${id}`, JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active } }],
    }), { 'content-type': SCIM });
    expect((await patch(first.body.id, false)).status).toBe(200);
    expect((await create(email)).status).toBe(201);
    const beforeRestore = await snapshot(t, org.orgId);
    const restore = await patch(first.body.id, true);
    expect(restore.status).toBe(402);
    expect(restore.body.detail).toMatch(/^plan\.seat_limit: /);
    expect(await snapshot(t, org.orgId)).toEqual(beforeRestore);
  });
});

describe('features, roles and limits', () => {
  test('a feature outside the plan answers 402 plan.feature_unavailable naming the cheapest plan that has it; nothing written', async () => {
    const org = await createOrg(t); // free
    const api = org.owner.api;
    const sso = await expectRefused(org, () => api('POST', `/api/v1/orgs/${org.orgId}/connections`, {
      type: 'oidc', name: 'IdP', issuer: 'https://idp.example.test', clientId: 'c', clientSecret: 's',
    }), 402, 'plan.feature_unavailable');
    expect(sso.body.detail).toContain('Enterprise');
    const teams = await expectRefused(org, () => api('POST', `/api/v1/orgs/${org.orgId}/teams`, { name: 'Ops' }), 402, 'plan.feature_unavailable');
    expect(teams.body.detail).toContain('Starter');
    await setPlan(org, 'starter');
    expect((await api('POST', `/api/v1/orgs/${org.orgId}/teams`, { name: 'Ops' })).status).toBe(201);
    const role = await expectRefused(org, () => api('POST', `/api/v1/orgs/${org.orgId}/roles`, { key: 'auditor', name: 'Auditor', permissions: ['audit:read'] }), 402, 'plan.feature_unavailable');
    expect(role.body.detail).toContain('Team');
    const exported = await expectRefused(org, () => api('GET', `/api/v1/orgs/${org.orgId}/audit-events?format=jsonl`), 402, 'plan.feature_unavailable');
    expect(exported.body.detail).toContain('Team');
    const dir = await expectRefused(org, () => api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'IdP', defaultRole: 'member' }), 402, 'plan.feature_unavailable');
    expect(dir.body.detail).toContain('Enterprise');
  });

  test('a built-in role the plan lacks cannot be given by invitation or role change (402), one it has can', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'starter'); // owner, admin, member
    const invite = await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: uniqueEmail(), role: 'viewer' }), 402, 'plan.feature_unavailable');
    expect(invite.body.detail).toMatch(/viewer.*Team/);
    const member = await createMember(t, [[org, 'member']]);
    await expectRefused(org, () => org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/members/${member.id}`, { role: 'viewer' }), 402, 'plan.feature_unavailable');
    expect((await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/members/${member.id}`, { role: 'admin' })).status).toBeLessThan(300);
  });

  test('API keys past the plan\'s active key limit answer 402 plan.limit; a revoked key frees its place', async () => {
    const org = await createOrg(t); // free: 2 active keys; the owner's is one
    const second = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: 'second', role: 'owner' });
    expect(second.status).toBe(201);
    await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: 'third', role: 'owner' }), 402, 'plan.limit');
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/api-keys/${second.body.id}`)).status).toBe(200);
    expect((await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: 'third', role: 'owner' })).status).toBe(201);
  });
});

describe('directory and SSO paths that make members or give roles', () => {
  const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
  const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
  const meta = { ip: null, userAgent: null, requestId: null };

  async function directory(org: TestOrg) {
    const dir = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'IdP', defaultRole: 'member' });
    expect(dir.status).toBe(201);
    const scim = client(`${t.url}${new URL(dir.body.scimBaseUrl).pathname}`, dir.body.token);
    const send = (method: string, path: string, body: object) => scim(method, path, JSON.stringify(body), { 'content-type': SCIM });
    return {
      id: dir.body.id as string,
      user: async (email = uniqueEmail('scim')) => {
        const res = await send('POST', '/Users', { schemas: [USER], userName: email, emails: [{ value: email, primary: true }] });
        expect(res.status).toBe(201);
        const [row] = await t.db.inOrg(org.orgId, (em) => em.execute<{ user_id: string }[]>('SELECT user_id FROM directory_users WHERE id = ?', [res.body.id]));
        return { id: res.body.id as string, userId: row!.user_id };
      },
      group: async (members: string[] = []) => {
        const res = await send('POST', '/Groups', { schemas: [GROUP], displayName: `g-${randomUUID().slice(0, 6)}`, members: members.map((value) => ({ value })) });
        expect(res.status).toBe(201);
        return res.body.id as string;
      },
      addToGroup: (groupId: string, ids: string[]) =>
        send('PATCH', `/Groups/${groupId}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }] }),
      rule: (groupId: string, role: string) => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories/${dir.body.id}/rules`, { groupId, role }),
    };
  }

  const roleOf = async (org: TestOrg, userId: string) =>
    (await t.db.inOrg(org.orgId, (em) => em.execute<{ role: string }[]>('SELECT role FROM memberships WHERE user_id = ?', [userId])))[0]?.role ?? null;

  test('a directory group rule or group membership that would make someone a member again past the seat limit is refused (402 API, SCIM 402), nothing written', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'capped'); // 2 seats
    const dir = await directory(org);
    const person = await dir.user(); // seat 2
    const ruled = await dir.group([person.id]);
    const empty = await dir.group();
    expect((await dir.rule(empty, 'member')).status).toBe(201); // no members: nobody to seat
    // Removed by an admin, the person stays an active directory user; the seat goes to an invitation.
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${person.userId}`)).status).toBeLessThan(300);
    const invitation = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: uniqueEmail(), role: 'member' });
    expect(invitation.status).toBe(201);

    await expectRefused(org, () => dir.rule(ruled, 'member'), 402, 'plan.seat_limit');

    const before = await snapshot(t, org.orgId);
    const refused = await dir.addToGroup(empty, [person.id]);
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ schemas: [ERROR], status: '402' });
    expect(refused.body.detail).toMatch(/^plan\.seat_limit: /);
    expect(await snapshot(t, org.orgId)).toEqual(before);
    expect(await roleOf(org, person.userId)).toBeNull();

    // The seat freed, the same change goes through and makes the person a member again.
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/invitations/${invitation.body.id}`)).status).toBeLessThan(300);
    expect((await dir.addToGroup(empty, [person.id])).status).toBeLessThan(300);
    expect(await roleOf(org, person.userId)).toBe('member');
  });

  test('a directory rule, default role or SSO role rule naming a role the plan lacks is refused with 402 plan.feature_unavailable, nothing written', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'capped'); // owner, admin, member: no viewer
    const dir = await directory(org);
    const group = await dir.group();
    const rule = await expectRefused(org, () => dir.rule(group, 'viewer'), 402, 'plan.feature_unavailable');
    expect(rule.body.detail).toMatch(/viewer.*Team/);
    await expectRefused(org, () => org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/directories/${dir.id}`, { defaultRole: 'viewer' }), 402, 'plan.feature_unavailable');
    const sso = { type: 'oidc', name: 'IdP', issuer: 'https://idp.example.test', clientId: 'c', clientSecret: 's' };
    await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/connections`, { ...sso, roleRules: [{ group: 'Readers', role: 'viewer' }] }), 402, 'plan.feature_unavailable');
    await expectRefused(org, () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/connections`, { ...sso, defaultRole: 'viewer' }), 402, 'plan.feature_unavailable');
    const conn = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/connections`, { ...sso, roleRules: [{ group: 'Admins', role: 'admin' }] });
    expect(conn.status).toBe(201);
    await expectRefused(org, () => org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/connections/${conn.body.id}`, { roleRules: [{ group: 'Readers', role: 'viewer' }] }), 402, 'plan.feature_unavailable');
  });

  test('after a downgrade, a directory group rule\'s role the plan no longer offers is not given: the directory\'s default role is', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'enterprise');
    const auditor = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/roles`, {
      key: 'auditor', name: 'Auditor', permissions: ['org:read', 'members:read', 'roles:read', 'teams:read', 'audit:read', 'api_keys:create'],
    });
    expect(auditor.status).toBe(201);
    const dir = await directory(org);
    const [early, late] = [await dir.user(), await dir.user()];
    const group = await dir.group();
    expect((await dir.rule(group, 'auditor')).status).toBe(201);
    expect((await dir.addToGroup(group, [early.id])).status).toBeLessThan(300);
    expect(await roleOf(org, early.userId)).toBe('auditor'); // the rule outranks the default on enterprise

    await setPlan(org, 'capped'); // SCIM still, custom roles no more
    expect((await dir.addToGroup(group, [late.id])).status).toBeLessThan(300);
    expect(await roleOf(org, late.userId)).toBe('member');
    expect((await auditTypes(org, 'member.role_changed')).filter((e) => e.target_id === late.userId)).toEqual([]);
  });

  test('after a downgrade, an SSO group rule\'s role the plan no longer offers is not given at login: the connection\'s default role is', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'enterprise');
    const conn = await oidcConnection(t, org.orgId, { issuer: 'https://idp.example.test', clientId: 'gatehouse' }, 'upstream-secret', {
      defaultRole: 'member', roleRules: [{ group: 'Readers', role: 'viewer' }],
    });
    const login = async (email: string) => {
      const subject = `sub-${randomUUID()}`;
      const { userId } = await provisionSsoLogin(t.db, conn, { subject, email, emailVerified: true, givenName: 'Sam', familyName: 'Sso', groups: ['Readers'] }, meta, t.app.services);
      return { userId, subject, email };
    };
    const early = await login(uniqueEmail('early'));
    expect(await roleOf(org, early.userId)).toBe('viewer');

    await setPlan(org, 'capped'); // SSO still, viewer no more; 2 seats
    // The viewer signing in again is not raised to the default: they keep the lower role they have.
    const again = await provisionSsoLogin(t.db, conn, {
      subject: early.subject, email: early.email, emailVerified: true, givenName: 'Sam', familyName: 'Sso', groups: ['Readers'],
    }, meta, t.app.services);
    expect(again.userId).toBe(early.userId);
    expect(await roleOf(org, early.userId)).toBe('viewer');

    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${early.userId}`)).status).toBeLessThan(300); // a seat for the next
    const late = await login(uniqueEmail('late'));
    expect(await roleOf(org, late.userId)).toBe('member');
    expect((await auditTypes(org, 'member.added')).find((e) => e.target_id === late.userId)?.after).toMatchObject({ role: 'member', source: 'sso' });
  });
});

describe('upgrades and downgrades', () => {
  test('an upgrade (org_billing row change) unlocks SSO at once', async () => {
    const org = await createOrg(t);
    const create = () => org.owner.api('POST', `/api/v1/orgs/${org.orgId}/connections`, {
      type: 'oidc', name: 'IdP', issuer: 'https://idp.example.test', clientId: 'c', clientSecret: 's',
    });
    expect((await create()).status).toBe(402);
    await setPlan(org, 'enterprise');
    const created = await create();
    expect(created.status).toBe(201);
    expect(created.body.disabledByPlan).toBe(false);
  });

  test('a downgrade disables the SSO connection without deleting it, logins through it are refused, and re-upgrading restores it', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'enterprise');
    const domain = `d-${randomUUID().slice(0, 8)}.example.test`;
    await verifiedDomain(t, org.orgId, domain);
    await withIdp(org, (conn, idp) => downgradeAndBack(org, conn, idp, domain));
  });

  test('JIT SSO provisioning past the seat limit is refused (hosted error page), nothing provisioned', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'capped');
    await createMember(t, [[org, 'member']]); // both seats taken
    const domain = `d-${randomUUID().slice(0, 8)}.example.test`;
    await verifiedDomain(t, org.orgId, domain);
    const email = `new-${randomUUID().slice(0, 6)}@${domain}`;
    await withIdp(org, async (conn, idp) => {
      idp.accounts.set(email, { email, email_verified: true });
      idp.nextAccount = email;
      const started = await ssoLogin(conn, email, true);
      const before = await snapshot(t, org.orgId);
      const refused = await started.finish();
      expect(refused.status).toBe(403);
      expect(refused.html).toContain('no seat left');
      expect(await snapshot(t, org.orgId)).toEqual(before);
      expect(await t.db.withoutOrg((em) => em.execute('SELECT 1 FROM users WHERE email = ?', [email]))).toEqual([]);
    });
  });

  async function downgradeAndBack(org: TestOrg, conn: Connection, idp: TestIdp, domain: string): Promise<void> {
    const email = `p-${randomUUID().slice(0, 6)}@${domain}`;
    idp.accounts.set(email, { email, email_verified: true });

    // A login started before the downgrade, finished after it: refused at the callback.
    idp.nextAccount = email;
    const started = await ssoLogin(conn, email, true);
    await changePlan(org, 'team');
    const kept = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/connections/${conn.id}`);
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ id: conn.id, active: true, disabledByPlan: true });
    const before = await snapshot(t, org.orgId);
    const refused = await started.finish();
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('plan does not include SSO');
    expect(await snapshot(t, org.orgId)).toEqual(before);
    expect((await auditTypes(org, 'connection.plan_disabled')).map((e) => e.target_id)).toEqual([conn.id]);
    // Switching it off stays allowed; switching it on is a plan question.
    expect((await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/connections/${conn.id}`, { active: false })).status).toBe(200);
    await expectRefused(org, () => org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/connections/${conn.id}`, { active: true }), 402, 'plan.feature_unavailable');

    await changePlan(org, 'enterprise');
    expect((await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/connections/${conn.id}`, { active: true })).status).toBe(200);
    expect((await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/connections/${conn.id}`)).body.disabledByPlan).toBe(false);
    idp.nextAccount = email;
    const tokens = await (await ssoLogin(conn, email, false)).redeem();
    expect(tokens.claims()).toMatchObject({ email, org_id: org.orgId, plan: 'enterprise' });
    expect((await auditTypes(org, 'connection.plan_enabled')).map((e) => e.target_id)).toEqual([conn.id]);
  }

  test('a downgrade disables the SCIM directory (403 SCIM error, data kept); re-upgrading restores it', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'enterprise');
    const dir = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'IdP', defaultRole: 'member' });
    const scim: Client = client(`${t.url}${new URL(dir.body.scimBaseUrl).pathname}`, dir.body.token);
    const email = uniqueEmail('scim');
    expect((await scim('POST', '/Users', JSON.stringify({ schemas: [USER], userName: email }), { 'content-type': SCIM })).status).toBe(201);

    await changePlan(org, 'team');
    const before = await snapshot(t, org.orgId);
    const refused = await scim('GET', '/Users');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ schemas: [ERROR], status: '403' });
    expect(refused.body.detail).toMatch(/^plan\.feature_unavailable: .*SCIM/);
    expect((await scim('POST', '/Users', JSON.stringify({ schemas: [USER], userName: uniqueEmail() }), { 'content-type': SCIM })).status).toBe(403);
    expect(await snapshot(t, org.orgId)).toEqual(before);
    expect((await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/directories/${dir.body.id}`)).body.disabledByPlan).toBe(true);

    await changePlan(org, 'enterprise');
    const listed = await scim('GET', '/Users');
    expect(listed.status).toBe(200);
    expect(listed.body.totalResults).toBe(1);
  });

  test('a grace period that ended with no webhook: the background pass disables the SSO connection and audits the plan change once', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'enterprise');
    const conn = await oidcConnection(t, org.orgId, { issuer: 'https://idp.example.test', clientId: 'gatehouse' }, 'upstream-secret');
    await t.app.planEffects.runOnce([org.orgId]); // first sight: enterprise recorded as applied, nothing to audit
    expect(await auditTypes(org, 'billing.plan_changed')).toEqual([]);

    await t.db.inOrg(org.orgId, (em) => em.execute(
      `UPDATE org_billing SET status = 'past_due', grace_until = now() - interval '1 minute' WHERE org_id = ?`, [org.orgId]));
    expect(await t.app.planEffects.runOnce([org.orgId])).toEqual({ changed: 1 });
    const [disabled] = await t.db.inOrg(org.orgId, (em) => em.execute<{ plan_disabled_at: Date | null }[]>('SELECT plan_disabled_at FROM connections WHERE id = ?', [conn.id]));
    expect(disabled!.plan_disabled_at).not.toBeNull();
    expect((await auditTypes(org, 'billing.plan_changed')).map((e) => e.after)).toEqual([
      expect.objectContaining({ from: 'enterprise', to: 'free', status: 'past_due', reason: 'grace_ended' }),
    ]);
    expect((await auditTypes(org, 'connection.plan_disabled')).map((e) => e.target_id)).toEqual([conn.id]);

    const before = await snapshot(t, org.orgId);
    expect(await t.app.planEffects.runOnce([org.orgId])).toEqual({ changed: 0 });
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('the background pass leaves a past_due org within its grace period alone', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'enterprise');
    const conn = await oidcConnection(t, org.orgId, { issuer: 'https://idp.example.test', clientId: 'gatehouse' }, 'upstream-secret');
    await t.db.inOrg(org.orgId, (em) => em.execute(
      `UPDATE org_billing SET status = 'past_due', grace_until = now() + interval '1 day', applied_plan = 'enterprise' WHERE org_id = ?`, [org.orgId]));
    const before = await snapshot(t, org.orgId);
    expect(await t.app.planEffects.runOnce([org.orgId])).toEqual({ changed: 0 });
    expect(await snapshot(t, org.orgId)).toEqual(before);
    expect((await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/connections/${conn.id}`)).body.disabledByPlan).toBe(false);
  });

  test('applyPlanEffects is idempotent: the same plan again changes and records nothing', async () => {
    const org = await createOrg(t);
    await setPlan(org, 'enterprise');
    await oidcConnection(t, org.orgId, { issuer: 'https://idp.example.test', clientId: 'gatehouse' }, 'upstream-secret');
    await changePlan(org, 'free');
    const before = await snapshot(t, org.orgId);
    await changePlan(org, 'free');
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });
});

test('tokens carry the org\'s plan and features, read at issue', async () => {
  const org = await createOrg(t);
  await setPlan(org, 'team');
  const person = await createMember(t, [[org, 'member']]);
  const claims = (await tokensFor(t, rp, {}, { email: person.email, password: testPassword })).claims();
  expect(claims).toMatchObject({ org_id: org.orgId, plan: 'team', features: ['audit_export', 'custom_roles', 'teams'] });
  await setPlan(org, 'team', 'canceled'); // a lapsed subscription is free from the next token
  const after = (await tokensFor(t, rp, {}, { email: person.email, password: testPassword })).claims();
  expect(after).toMatchObject({ plan: 'free', features: [] });
});

test('service account (client_credentials) tokens carry the org\'s plan and features too, read at issue', async () => {
  const org = await createOrg(t);
  await setPlan(org, 'team');
  const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'sync', role: 'member' });
  expect(sa.status).toBe(201);
  const issuer = `${t.url}/oidc`;
  const config = await oidc.discovery(new URL(issuer), sa.body.clientId, undefined, oidc.ClientSecretBasic(sa.body.clientSecret), { execute: [oidc.allowInsecureRequests] });
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
  const claims = async () => {
    const tokens = await oidc.clientCredentialsGrant(config, { resource: `${t.url}/api/v1` });
    return (await jwtVerify(tokens.access_token, jwks, { issuer, audience: `${t.url}/api/v1` })).payload;
  };
  expect(await claims()).toMatchObject({ org_id: org.orgId, org_role: 'member', plan: 'team', features: ['audit_export', 'custom_roles', 'teams'] });
  await setPlan(org, 'team', 'canceled');
  expect(await claims()).toMatchObject({ org_id: org.orgId, plan: 'free', features: [] });
});

test('billing off: GATEHOUSE_DEFAULT_PLAN decides, and its seat limit blocks an invitation', async () => {
  const free = await startApp({ GATEHOUSE_DEFAULT_PLAN: 'free' });
  try {
    const org = await createOrg(free);
    const res = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: uniqueEmail(), role: 'member' });
    expect(res.status).toBe(402);
    expect(res.body.code).toBe('plan.seat_limit');
    expect(await free.db.inOrg(org.orgId, (em) => em.execute('SELECT 1 FROM invitations'))).toEqual([]);
  } finally {
    await free.close();
  }
});

/**
 * A billed gateway (its plans from the shipped catalogue) with a free org and an enterprise org,
 * and a burst of 30 requests with the org owner's key after one warm-up request (which has the
 * gateway look the plan up in the background): the statuses the burst got.
 */
async function billedGatewayBursts(): Promise<{ free: number[]; paid: number[] }> {
  const up = await startUpstream();
  const g = await startAppAtPublicUrl({
    STRIPE_SECRET_KEY: 'sk_test_enforcement', STRIPE_WEBHOOK_SECRET: 'whsec_enforcement', STRIPE_API_BASE: 'http://127.0.0.1:9',
    UPSTREAM_URL: up.url, GATEHOUSE_ROUTES: routesFile(), GATEWAY_PORT: '0',
  });
  try {
    const server = await g.app.gateway!.listen(0);
    const gw = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const [free, paid] = await Promise.all([createOrg(g), createOrg(g)]);
    await g.db.inOrg(paid.orgId, (em) => em.execute(`INSERT INTO org_billing (org_id, plan, status) VALUES (?, 'enterprise', 'active')`, [paid.orgId]));
    const burst = async (org: TestOrg) => {
      const get = () => rawRequest(gw, 'GET', `/orgs/${org.orgId}/agents`, { authorization: `Bearer ${org.owner.key}` });
      expect((await get()).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      return (await Promise.all(Array.from({ length: 30 }, get))).map((r) => r.status);
    };
    return { free: await burst(free), paid: await burst(paid) };
  } finally {
    await g.close();
    await up.close();
  }
}

test('gateway: with billing on, an org\'s rate limit is its plan\'s (free: 10/s), another plan\'s org is not held to it', async () => {
  const { free, paid } = await billedGatewayBursts();
  expect(free.filter((s) => s === 429).length).toBeGreaterThan(10);
  expect(free.filter((s) => s === 200).length).toBeLessThanOrEqual(14);
  expect(paid.every((s) => s === 200)).toBe(true);
});

test('gateway: with billing on, each API key\'s rate limit is its org\'s plan\'s too (free: 5/s, under the org\'s 10/s); an enterprise key is not held to it', async () => {
  const { free, paid } = await billedGatewayBursts();
  // The org's bucket alone (10/s) would let about 10 through; the key's (5/s) lets about 5.
  expect(free.filter((s) => s === 200).length).toBeLessThanOrEqual(7);
  expect(free.filter((s) => s === 429).length).toBeGreaterThan(20);
  expect(paid.every((s) => s === 200)).toBe(true);
});

// --- SSO through the upstream IdP, with a browser per origin ---------------------------------

/** An upstream OIDC IdP and the org's connection to it, for the length of `fn`. */
async function withIdp(org: TestOrg, fn: (conn: Connection, idp: TestIdp) => Promise<void>): Promise<void> {
  const idpPort = await freePort();
  const conn = await oidcConnection(t, org.orgId, { issuer: `http://127.0.0.1:${idpPort}`, clientId: 'gatehouse' }, 'upstream-secret');
  const idp = await startIdp({ port: idpPort, clients: [{ client_id: 'gatehouse', client_secret: 'upstream-secret', redirect_uris: [`${t.url}/sso/oidc/${conn.id}/callback`] }] });
  try {
    await fn(conn, idp);
  } finally {
    await idp.close();
  }
}

type Page = Awaited<ReturnType<FormAgent['request']>>;

class Browser {
  readonly #jars = new Map<string, FormAgent>();

  get(url: string): Promise<Page> {
    const origin = new URL(url).origin;
    if (!this.#jars.has(origin)) this.#jars.set(origin, new FormAgent());
    return this.#jars.get(origin)!.request(url);
  }

  async go(url: string, stop: (location: string) => boolean = () => false): Promise<Page> {
    let page = await this.get(url);
    while (page.location && [302, 303].includes(page.status) && !page.location.startsWith(redirectUri) && !stop(page.location)) {
      page = await this.get(page.location);
    }
    return page;
  }
}

/** Starts a login_hint sign-in; `pause` stops where the IdP sends the browser back to Gatehouse. */
async function ssoLogin(conn: Connection, email: string, pause: boolean) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid email org', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state, nonce, login_hint: email,
  });
  const browser = new Browser();
  const atCallback = (l: string) => l.startsWith(`${t.url}/sso/oidc/${conn.id}/callback`);
  const page = await browser.go(url.href, pause ? atCallback : undefined);
  return {
    finish: () => browser.go(page.location!),
    redeem: () => {
      if (!page.location?.startsWith(redirectUri)) throw new Error(`sign-in did not return to the client (${page.status}):\n${page.html.slice(0, 600)}`);
      return oidc.authorizationCodeGrant(rp, new URL(page.location), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    },
  };
}
