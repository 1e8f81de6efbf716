import * as oidc from 'openid-client';
import { client, startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent } from '../helpers/browser.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { personAt, postToAcs, samlSetup, startSamlLogin, type SamlSetup } from '../helpers/saml-flow.ts';
import { readRedirectRequest, testIdp, type TestIdp } from '../helpers/saml-idp.ts';
import { samlResponse } from '../helpers/saml-idp-response.ts';
import { redirectUri, relyingParty } from '../helpers/sign-in.ts';
import { auditEventsOf, refusalsOf } from '../helpers/snapshot.ts';
import { oidcConnection } from '../helpers/sso.ts';

// A setup link is a forwardable bearer URL holding sso:manage. Whoever holds it must not be able
// to put an IdP of their own in front of the org's verified domains: what a link creates or
// re-points stays off until a member with sso:manage turns it on; test sign-ins work meanwhile.
let t: TestApp;
let rp: oidc.Configuration;
const expectRefused = refusalsOf(() => t);

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  rp = (await relyingParty(t)).rp;
});
afterAll(() => t.close());

async function linkOf(org: TestOrg) {
  const res = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/setup-links`, { scope: 'sso' });
  expect(res.status).toBe(201);
  return client(t.url, res.body.url.split('/admin/setup/')[1]!);
}

const connections = (org: TestOrg) => `/api/v1/orgs/${org.orgId}/connections`;

/** The setup's org, with a SAML connection the link made, pointing at `idp` (the link holder's). */
async function linkMadeConnection(setup: SamlSetup, idp: TestIdp) {
  const link = await linkOf(setup.org);
  const res = await link('POST', connections(setup.org), { type: 'saml', name: 'Mine', idpEntityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.certificatePem] });
  expect(res.status).toBe(201);
  const base = `${t.url}/sso/saml/${res.body.id}`;
  return { link, id: res.body.id as string, sp: { entityId: `${base}/metadata`, acsUrl: `${base}/acs`, certificatePem: res.body.sp.certificate as string } };
}

async function identities(): Promise<number> {
  const [row] = await t.db.withoutOrg((em) => em.execute<{ n: string }[]>('SELECT count(*) AS n FROM user_identities'));
  return Number(row!.n);
}

/** An interaction of the hosted sign-in (the product's authorization request): its uid. */
async function interaction(agent: FormAgent): Promise<string> {
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const auth = await agent.request(url.href);
  return /\/interaction\/([^/?]+)/.exec(auth.location!)![1]!;
}

test('a connection a setup link creates is inactive, and a real SSO login through it is refused (404), nobody signed in', async () => {
  const setup = await samlSetup(t);
  const attacker = testIdp('attacker');
  const made = await linkMadeConnection(setup, attacker);
  expect((await setup.org.owner.api('GET', `${connections(setup.org)}/${made.id}`)).body.active).toBe(false);
  const created = (await auditEventsOf(t, setup.org.orgId, 'connection.created')).find((e) => e.target_id === made.id);
  expect(created!.after.active).toBe(false);
  const before = await identities();
  const agent = new FormAgent();
  const uid = await interaction(agent);
  expect((await agent.request(`${t.url}/interaction/${uid}/sso/${made.id}`)).status).toBe(404);
  // The link holder's IdP answers anyway, for someone in the org's verified domain.
  const forged = samlResponse(attacker, made.sp, { email: personAt(setup, 'owner') }, { inResponseTo: '_made-up-request' });
  const acs = await postToAcs(agent, { ...setup, sp: made.sp }, forged.base64);
  expect(acs.status).toBe(404);
  expect(acs.html).toContain('does not exist or is not active');
  expect(await identities()).toBe(before);
});

test('a setup link cannot turn a connection on (403 connection.activation_requires_member), nothing changed', async () => {
  const setup = await samlSetup(t);
  const made = await linkMadeConnection(setup, testIdp());
  const res = await expectRefused(setup.org, () => made.link('PATCH', `${connections(setup.org)}/${made.id}`, { active: true }), 403, 'connection.activation_requires_member');
  expect(res.body.detail).toMatch(/administrator of the organization/);
  await expectRefused(setup.org, () => made.link('PATCH', `${connections(setup.org)}/${made.id}`, { name: 'On', active: true }), 403, 'connection.activation_requires_member');
});

test('re-pointing an active connection\'s IdP through a setup link deactivates it; a sign-in already under way then fails', async () => {
  const setup = await samlSetup(t);
  const path = `${connections(setup.org)}/${setup.connection.id}`;
  const link = await linkOf(setup.org);
  // Changes that leave the IdP as it is keep the connection on.
  expect((await link('PATCH', path, { name: 'Renamed', idpEntityId: setup.idp.entityId })).body.active).toBe(true);
  const started = await startSamlLogin(t, rp, setup, personAt(setup));
  const attacker = testIdp('attacker');
  const repointed = await link('PATCH', path, { idpEntityId: attacker.entityId, ssoUrl: attacker.ssoUrl, certificates: [attacker.certificatePem] });
  expect([repointed.status, repointed.body.active]).toEqual([200, false]);
  const audited = (await auditEventsOf(t, setup.org.orgId, 'connection.updated')).at(-1)!;
  expect([audited.before.active, audited.after.active, audited.after.deactivated]).toEqual([true, false, 'idp_changed_by_setup_link']);
  const before = await identities();
  const forged = samlResponse(attacker, setup.sp, { email: personAt(setup) }, { inResponseTo: started.request.id });
  const acs = await postToAcs(started.signedIn.agent, setup, forged.base64);
  expect(acs.status).toBe(404);
  expect(await identities()).toBe(before);
});

test('rotating an OIDC connection\'s client secret or issuer through a setup link deactivates it', async () => {
  const org = await createOrg(t);
  const link = await linkOf(org);
  for (const change of [{ clientSecret: 'theirs' }, { issuer: 'https://idp.attacker.example.test' }]) {
    const conn = await oidcConnection(t, org.orgId, { issuer: 'https://idp.example.test', clientId: 'gatehouse' }, 'ours');
    const res = await link('PATCH', `${connections(org)}/${conn.id}`, change);
    expect([res.status, res.body.active]).toEqual([200, false]);
  }
});

test('an admin activates a link-made connection (200), audited', async () => {
  const setup = await samlSetup(t);
  const made = await linkMadeConnection(setup, testIdp());
  const res = await setup.org.owner.api('PATCH', `${connections(setup.org)}/${made.id}`, { active: true });
  expect([res.status, res.body.active]).toEqual([200, true]);
  const audited = (await auditEventsOf(t, setup.org.orgId, 'connection.updated')).at(-1)!;
  expect([audited.target_id, audited.before.active, audited.after.active]).toEqual([made.id, false, true]);
});

test('a test sign-in works on an inactive connection, with every check, and signs nobody in', async () => {
  const setup = await samlSetup(t);
  const idp = testIdp();
  const made = await linkMadeConnection(setup, idp);
  const before = await identities();
  const run = async (signingKey?: TestIdp) => {
    const returnTo = `/admin/setup/sso/${made.id}/test-result`;
    const started = await made.link('POST', `${connections(setup.org)}/${made.id}/test`, { returnTo });
    expect(started.status).toBe(201);
    const agent = new FormAgent();
    const atIdp = await agent.request(started.body.startUrl);
    expect(atIdp.location?.startsWith(idp.ssoUrl)).toBe(true);
    const request = readRedirectRequest(atIdp.location!, made.sp.certificatePem);
    const response = samlResponse(idp, made.sp, { email: personAt(setup) }, { inResponseTo: request.id, ...(signingKey ? { signingKey } : {}) });
    const acs = await postToAcs(agent, { ...setup, sp: made.sp }, response.base64);
    expect([acs.status, acs.location]).toEqual([303, `${t.url}${returnTo}?test=${started.body.id}`]);
    return (await made.link('GET', `${connections(setup.org)}/${made.id}/test/${started.body.id}`)).body;
  };
  expect(await run()).toMatchObject({ status: 'passed', result: { ok: true, role: 'member' } });
  expect(await run(testIdp('forger'))).toMatchObject({ status: 'failed', result: { ok: false, code: 'saml.signature_invalid' } });
  expect(await identities()).toBe(before);
  expect((await made.link('GET', `${connections(setup.org)}/${made.id}`)).body.active).toBe(false);
});
