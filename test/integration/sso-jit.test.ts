import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { generateSpCredentials } from '../../saml/sp-credentials.ts';
import { provisionSsoLogin } from '../../src/federation/jit.ts';
import type { SsoProfile } from '../../src/federation/sso-profile.ts';
import type { Connection, RoleRule } from '../../src/modules/connections/connection.entity.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent, readForm } from '../helpers/browser.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { createMember, redirectUri, relyingParty, signIn, testPassword } from '../helpers/sign-in.ts';
import { auditEventsOf } from '../helpers/snapshot.ts';
import { samlConnection, verifiedDomain } from '../helpers/sso.ts';

// What happens after an IdP's answer passed every protocol check (the SAML and OIDC suites
// drive real IdPs through this): JIT provisioning and the takeover rule, group rules,
// home-realm discovery, the hand-off's browser binding, and SSO enforcement.
const meta = { ip: null, userAgent: null, requestId: null };
let t: TestApp;
let rp: oidc.Configuration;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  ({ rp } = await relyingParty(t));
});
afterAll(() => t.close());

const uniqueDomain = () => `corp-${randomUUID().slice(0, 8)}.example`;

function profile(email: string, extra: Partial<SsoProfile> = {}): SsoProfile {
  return { subject: `sub-${randomUUID()}`, email, emailVerified: true, givenName: 'Sam', familyName: 'Sso', groups: [], ...extra };
}

async function connectionFor(org: TestOrg, opts: { roleRules?: RoleRule[]; defaultRole?: string; name?: string } = {}): Promise<Connection> {
  const idp = generateSpCredentials('Test IdP');
  return samlConnection(t, org.orgId, { idpEntityId: `https://idp.example/${randomUUID()}`, ssoUrl: 'https://idp.example/sso', certificates: [idp.certificatePem] }, opts);
}

const membership = (orgId: string, userId: string) =>
  t.db.inOrg(orgId, (em) => em.execute<{ role: string; source: string }[]>('SELECT role, source FROM memberships WHERE user_id = ?', [userId])).then((r) => r[0] ?? null);
const usersWithEmail = (email: string) =>
  t.db.withoutOrg((em) => em.execute<{ id: string; managed_by_org_id: string | null }[]>('SELECT id, managed_by_org_id FROM users WHERE lower(email) = ? ORDER BY created_at', [email]));

describe('JIT provisioning', () => {
  test('the first login in a verified domain makes the user and an sso membership with the default role; the next finds them', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const connection = await connectionFor(org, { defaultRole: 'viewer' });
    const who = profile(`new.person@${domain}`);
    const first = await provisionSsoLogin(t.db, connection, who, meta, t.app.services);
    expect(await membership(org.orgId, first.userId)).toEqual({ role: 'viewer', source: 'sso' });
    expect(await usersWithEmail(who.email)).toEqual([{ id: first.userId, managed_by_org_id: null }]);
    expect((await provisionSsoLogin(t.db, connection, who, meta, t.app.services)).userId).toBe(first.userId);
    const logins = await auditEventsOf(t, org.orgId, 'sso.login');
    expect(logins.filter((e) => e.target_id === first.userId)).toHaveLength(2);
    expect((await auditEventsOf(t, org.orgId, 'member.added')).map((e) => e.target_id)).toContain(first.userId);
  });

  test('an existing account in a verified domain is linked, not duplicated, and joins the org', async () => {
    const org = await createOrg(t);
    const other = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const existing = await createMember(t, [[other, 'member']]);
    const email = `${existing.email.split('@')[0]}@${domain}`;
    await t.db.withoutOrg((em) => em.execute('UPDATE users SET email = ? WHERE id = ?', [email, existing.id]));
    const { userId } = await provisionSsoLogin(t.db, await connectionFor(org), profile(email), meta, t.app.services);
    expect(userId).toBe(existing.id);
    expect(await membership(org.orgId, userId)).toEqual({ role: 'member', source: 'sso' });
  });

  test('a link made while the org held the domain stops working when it no longer does', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const connection = await connectionFor(org);
    const who = profile(`leaver@${domain}`);
    const { userId } = await provisionSsoLogin(t.db, connection, who, meta, t.app.services);
    await t.db.inOrg(org.orgId, (em) => em.execute('DELETE FROM domains WHERE domain = ?', [domain]));
    await expect(provisionSsoLogin(t.db, connection, who, meta, t.app.services)).rejects.toMatchObject({ status: 403, code: 'sso.domain_not_verified' });
    expect((await auditEventsOf(t, org.orgId, 'sso.login')).filter((e) => e.target_id === userId)).toHaveLength(1);
  });

  test('takeover refused: an email outside the org\'s verified domains gets an org-managed account, never the person\'s own', async () => {
    const attacker = await createOrg(t);
    const victimOrg = await createOrg(t);
    const victim = await createMember(t, [[victimOrg, 'admin']], 'victim');
    const connection = await connectionFor(attacker, { defaultRole: 'admin' });
    const { userId } = await provisionSsoLogin(t.db, connection, profile(victim.email), meta, t.app.services);

    expect(userId).not.toBe(victim.id);
    const accounts = await usersWithEmail(victim.email);
    expect(accounts).toEqual([{ id: victim.id, managed_by_org_id: null }, { id: userId, managed_by_org_id: attacker.orgId }]);
    expect(await membership(attacker.orgId, victim.id)).toBeNull();
    // The person's own account still signs in with its password, to its own org only.
    const { page } = await signIn(t, rp, {}, { email: victim.email, password: testPassword });
    expect(page.location).toMatch(/^https:\/\/rp\.example\.test\/callback\?code=/);
    // And the managed account has no password: the victim's password does not open it.
    const managed = await t.db.withoutOrg((em) => em.execute<{ password_hash: string | null }[]>('SELECT password_hash FROM users WHERE id = ?', [userId]));
    expect(managed[0]!.password_hash).toBeNull();
  });

  test('a second org\'s IdP asserting the same outside address gets its own managed account', async () => {
    const [a, b] = [await createOrg(t), await createOrg(t)];
    const email = `shared-${randomUUID().slice(0, 6)}@gmail.example`;
    const inA = await provisionSsoLogin(t.db, await connectionFor(a), profile(email), meta, t.app.services);
    const inB = await provisionSsoLogin(t.db, await connectionFor(b), profile(email), meta, t.app.services);
    expect(inA.userId).not.toBe(inB.userId);
    expect(await membership(b.orgId, inA.userId)).toBeNull();
  });

  test('group rules set the role at every login and add teams; the owner is never demoted', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const team = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/teams`, { name: 'Platform' });
    expect(team.status).toBe(201);
    const connection = await connectionFor(org, { roleRules: [{ group: 'Admins', role: 'admin' }, { group: 'Platform', teamId: team.body.id }] });
    const who = profile(`ruled@${domain}`, { groups: ['Admins', 'Platform'] });
    const { userId } = await provisionSsoLogin(t.db, connection, who, meta, t.app.services);
    expect(await membership(org.orgId, userId)).toEqual({ role: 'admin', source: 'sso' });
    const members = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/teams/${team.body.id}/members`);
    expect(members.body.data.map((m: { userId: string }) => m.userId)).toContain(userId);

    await provisionSsoLogin(t.db, connection, { ...who, groups: [] }, meta, t.app.services);
    expect(await membership(org.orgId, userId)).toEqual({ role: 'member', source: 'sso' });
    expect((await auditEventsOf(t, org.orgId, 'member.role_changed')).filter((e) => e.target_id === userId)).toHaveLength(1);

    const ownerEmail = `boss@${domain}`;
    await t.db.withoutOrg((em) => em.execute('UPDATE users SET email = ? WHERE id = ?', [ownerEmail, org.owner.userId]));
    await provisionSsoLogin(t.db, connection, profile(ownerEmail), meta, t.app.services);
    expect(await membership(org.orgId, org.owner.userId)).toMatchObject({ role: 'owner' });
  });

  test('a disabled user is refused and nothing is added', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const email = `off@${domain}`;
    const user = await t.db.withoutOrg((em) => em.execute<{ id: string }[]>(`INSERT INTO users (id, email, disabled_at) VALUES (gen_random_uuid(), ?, now()) RETURNING id`, [email]));
    await expect(provisionSsoLogin(t.db, await connectionFor(org), profile(email), meta, t.app.services)).rejects.toMatchObject({ status: 403 });
    expect(await membership(org.orgId, user[0]!.id)).toBeNull();
    expect(await auditEventsOf(t, org.orgId, 'sso.login')).toHaveLength(0);
  });

  test('a person the org\'s directory deactivated is refused: SSO does not bring back a suspended membership', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const email = `left@${domain}`;
    const [user] = await t.db.withoutOrg((em) => em.execute<{ id: string }[]>('INSERT INTO users (id, email) VALUES (gen_random_uuid(), ?) RETURNING id', [email]));
    await t.db.inOrg(org.orgId, async (em) => {
      const [dir] = await em.execute<{ id: string }[]>(
        `INSERT INTO directories (id, org_id, name, default_role) VALUES (gen_random_uuid(), ?, 'Okta', 'member') RETURNING id`, [org.orgId]);
      await em.execute(
        `INSERT INTO directory_users (id, org_id, directory_id, user_id, user_name, email, active, resource)
         VALUES (gen_random_uuid(), ?, ?, ?, ?, ?, false, '{}')`, [org.orgId, dir!.id, user!.id, email, email]);
    });
    await expect(provisionSsoLogin(t.db, await connectionFor(org), profile(email), meta, t.app.services)).rejects.toMatchObject({ status: 403, code: 'member.suspended' });
    expect(await membership(org.orgId, user!.id)).toBeNull();
    expect(await auditEventsOf(t, org.orgId, 'sso.login')).toHaveLength(0);
  });
});

/** Starts an authorization request with this login_hint; the first page Gatehouse answers with. */
async function startWithHint(hint: string, agent = new FormAgent(), params: Record<string, string> = {}) {
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256', login_hint: hint, ...params,
  });
  const auth = await agent.request(url.href);
  const page = await agent.request(new URL(auth.location!, t.url).href);
  return { agent, page, uid: /\/interaction\/([^/]+)/.exec(auth.location!)![1]! };
}

describe('home-realm discovery', () => {
  test('a login_hint in a verified domain with one active connection goes straight to its SSO start', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const connection = await connectionFor(org);
    const { page, uid } = await startWithHint(`someone@${domain}`);
    expect(page.status).toBe(302);
    expect(page.location).toBe(`${t.url}/interaction/${uid}/sso/${connection.id}`);
  });

  test('a typed email does the same; a domain nobody verified goes on to the password', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    const connection = await connectionFor(org);
    const { agent, page } = await startWithHint('');
    const form = readForm(page.html, page.url);
    const unverified = await agent.request(form.action, { form: { ...form.fields, email: `someone@${domain}` } });
    expect(unverified.html).toContain('name="password"');
    await verifiedDomain(t, org.orgId, domain);
    const verified = await agent.request(form.action, { form: { ...form.fields, email: `someone@${domain}` } });
    expect(verified.status).toBe(200);
    expect(verified.html).toMatch(new RegExp(`content="0;url=/interaction/[^/]+/sso/${connection.id}"`));
  });

  test('several connections for a domain give a chooser; an inactive one is not offered', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const [okta, entra, off] = [await connectionFor(org, { name: 'Okta' }), await connectionFor(org, { name: 'Entra' }), await connectionFor(org, { name: 'Retired' })];
    await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE connections SET active = false WHERE id = ?', [off.id]));
    const { agent, page, uid } = await startWithHint(`pick@${domain}`);
    expect(page.location).toBe(`${t.url}/interaction/${uid}/sso/choose/${domain}`);
    const chooser = await agent.request(new URL(page.location!, t.url).href);
    expect(chooser.status).toBe(200);
    expect(chooser.html).toContain(`/interaction/${uid}/sso/${okta.id}`);
    expect(chooser.html).toContain(`/interaction/${uid}/sso/${entra.id}`);
    expect(chooser.html).not.toContain(off.id);
    const refused = await agent.request(`${t.url}/interaction/${uid}/sso/${off.id}`);
    expect(refused.status).toBe(404);
  });
});

describe('the hand-off back into the sign-in', () => {
  async function answered(org: TestOrg, email: string, interactionUid: string) {
    const connection = await connectionFor(org);
    const requestId = `_${randomUUID()}`;
    await t.app.services.db.withoutOrg((em) => em.execute(
      `INSERT INTO sso_requests (id, provider, connection_id, interaction_uid, outcome, used_at, expires_at) VALUES (?, 'saml', ?, ?, ?, now(), now() + interval '5 minutes')`,
      [requestId, connection.id, interactionUid, JSON.stringify(profile(email))]));
    return { connection, requestId };
  }

  test('an answer is taken only by the interaction of the browser that started it, and only once', async () => {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const victim = await startWithHint('');
    const { requestId } = await answered(org, `bound@${domain}`, victim.uid);

    // Another browser, with its own interaction, cannot use it: nothing is provisioned.
    const other = await startWithHint('');
    const stolen = await other.agent.request(`${t.url}/interaction/${other.uid}/sso/done/${requestId}`);
    expect(stolen.status).toBe(400);
    const foreign = await other.agent.request(`${t.url}/interaction/${victim.uid}/sso/done/${requestId}`);
    expect(foreign.status).toBe(400);
    expect(await usersWithEmail(`bound@${domain}`)).toEqual([]);

    const done = await victim.agent.request(`${t.url}/interaction/${victim.uid}/sso/done/${requestId}`);
    expect(done.status).toBe(303);
    const back = await victim.agent.follow(done.location!, t.url);
    expect(back.location).toMatch(/^https:\/\/rp\.example\.test\/callback\?code=/);
    expect(await usersWithEmail(`bound@${domain}`)).toHaveLength(1);
    const again = await victim.agent.request(`${t.url}/interaction/${victim.uid}/sso/done/${requestId}`);
    expect(again.status).toBe(400);
  });

  test('an authorization request naming another org is refused before anyone is provisioned', async () => {
    const [org, other] = [await createOrg(t), await createOrg(t)];
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const browser = await startWithHint('', new FormAgent(), { organization: other.slug });
    const { requestId } = await answered(org, `elsewhere@${domain}`, browser.uid);
    const done = await browser.agent.request(`${t.url}/interaction/${browser.uid}/sso/done/${requestId}`);
    expect(done.status).toBe(403);
    expect(await usersWithEmail(`elsewhere@${domain}`)).toEqual([]);
  });
});

describe('SSO enforcement', () => {
  async function enforcedOrg() {
    const org = await createOrg(t);
    const domain = uniqueDomain();
    await verifiedDomain(t, org.orgId, domain);
    const inDomain = await createMember(t, [[org, 'member']], 'enforced');
    const email = `${inDomain.email.split('@')[0]}@${domain}`;
    await t.db.withoutOrg((em) => em.execute('UPDATE users SET email = ? WHERE id = ?', [email, inDomain.id]));
    const contractor = await createMember(t, [[org, 'member']], 'contractor');
    return { org, domain, member: { id: inDomain.id, email }, contractor };
  }

  test('turning it on is an audited org setting that needs sso:manage', async () => {
    const { org } = await enforcedOrg();
    const res = await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}`, { ssoEnforced: true });
    expect(res.status).toBe(200);
    expect(res.body.ssoEnforced).toBe(true);
    const [event] = await auditEventsOf(t, org.orgId, 'org.updated');
    expect(event!.after).toMatchObject({ ssoEnforced: true });
  });

  test('a member in a verified domain can no longer sign in to the org with a password; others still can', async () => {
    const { org, member, contractor } = await enforcedOrg();
    await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}`, { ssoEnforced: true });
    // Posting the password form directly (skipping the email step's discovery) is refused too.
    const refused = await signIn(t, rp, {}, { email: member.email, password: testPassword });
    expect(refused.page.status).toBe(403);
    expect(refused.page.html).toContain('requires single sign-on');
    const allowed = await signIn(t, rp, {}, { email: contractor.email, password: testPassword });
    expect(allowed.page.location).toMatch(/callback\?code=/);
  });

  test('a password grant stops refreshing once enforcement is on, and cannot switch into an enforcing org', async () => {
    const { org, member } = await enforcedOrg();
    const other = await createOrg(t);
    await t.db.inOrg(other.orgId, (em) => em.execute(`INSERT INTO memberships (id, org_id, user_id, role, source) VALUES (gen_random_uuid(), ?, ?, 'member', 'invite')`, [other.orgId, member.id]));
    const { page, verifier, state, nonce } = await signIn(t, rp, { scope: 'openid offline_access', organization: org.orgId }, { email: member.email, password: testPassword });
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const fromOther = await signIn(t, rp, { scope: 'openid offline_access', organization: other.orgId }, { email: member.email, password: testPassword });
    const otherTokens = await oidc.authorizationCodeGrant(rp, new URL(fromOther.page.location!), { pkceCodeVerifier: fromOther.verifier, expectedState: fromOther.state, expectedNonce: fromOther.nonce });

    await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}`, { ssoEnforced: true });
    // The password grant in the org ended when enforcement began (no silent reuse of its session's grant).
    const [revoked] = await auditEventsOf(t, org.orgId, 'oidc.grants_revoked');
    expect(revoked!.after).toEqual({ grants: 1, reason: 'sso_enforced' });
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(rp, otherTokens.refresh_token!, { organization: org.orgId })).rejects.toMatchObject({ error: 'invalid_grant' });
    // The grant in the other org still works there.
    expect((await oidc.refreshTokenGrant(rp, otherTokens.refresh_token!)).access_token).toBeTruthy();
  });
});
