import { randomUUID } from 'node:crypto';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent } from '../helpers/browser.ts';
import { addMember, createOrg } from '../helpers/factories.ts';
import { personAt, postToAcs, samlSetup, startSamlLogin, type SamlSetup } from '../helpers/saml-flow.ts';
import { relyingParty } from '../helpers/sign-in.ts';
import { readRedirectRequest, testIdp } from '../helpers/saml-idp.ts';
import { samlResponse } from '../helpers/saml-idp-response.ts';

// Test sign-ins (the console's "test the connection"): started through the API, answered by the
// test IdP (xml-crypto, not node-saml) at the real ACS with every check, and reported to the
// console instead of signing anyone in.

let t: TestApp;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
});
afterAll(() => t.close());

const returnTo = (setup: SamlSetup) => `/admin/orgs/${setup.org.orgId}/sso/${setup.connection.id}/test-result`;

/** Starts a test through the API and follows its link to the IdP: the AuthnRequest's id. */
async function startTest(setup: SamlSetup, agent = new FormAgent()): Promise<{ testId: string; requestId: string; agent: FormAgent }> {
  const started = await setup.org.owner.api('POST', `/api/v1/orgs/${setup.org.orgId}/connections/${setup.connection.id}/test`, { returnTo: returnTo(setup) });
  expect(started.status).toBe(201);
  expect(started.body).toMatchObject({ status: 'pending', result: null, startUrl: `${t.url}/sso/test/${setup.connection.id}/${started.body.id}` });
  const atIdp = await agent.request(started.body.startUrl);
  expect(atIdp.location?.startsWith(setup.idp.ssoUrl)).toBe(true);
  const request = readRedirectRequest(atIdp.location!, setup.sp.certificatePem);
  return { testId: started.body.id, requestId: request.id, agent };
}

async function counts(orgId: string): Promise<{ users: number; members: number; identities: number }> {
  const [row] = await t.db.withoutOrg((em) => em.execute<{ users: string; identities: string }[]>(
    `SELECT (SELECT count(*) FROM users WHERE email LIKE '%@corp-%') AS users, (SELECT count(*) FROM user_identities) AS identities`));
  const members = await t.db.inOrg(orgId, (em) => em.execute<{ n: string }[]>('SELECT count(*) AS n FROM memberships'));
  return { users: Number(row!.users), identities: Number(row!.identities), members: Number(members[0]!.n) };
}

test('a test sign-in reports the attributes, groups and mapped role, and creates no user or membership', async () => {
  const setup = await samlSetup(t, {}, { preset: 'okta', defaultRole: 'viewer', roleRules: [{ group: 'Admins', role: 'admin' }] });
  const before = await counts(setup.org.orgId);
  const { testId, requestId, agent } = await startTest(setup);
  const email = personAt(setup);
  const response = samlResponse(setup.idp, setup.sp, { email, givenName: 'Tess', familyName: 'Tester', groups: ['Everyone', 'Admins'] }, { shape: 'okta', inResponseTo: requestId });
  const acs = await postToAcs(agent, setup, response.base64);
  expect(acs.status).toBe(303);
  expect(acs.location).toBe(`${t.url}${returnTo(setup)}?test=${testId}`);
  const read = await setup.org.owner.api('GET', `/api/v1/orgs/${setup.org.orgId}/connections/${setup.connection.id}/test/${testId}`);
  expect(read.status).toBe(200);
  expect(read.body).toMatchObject({
    status: 'passed',
    result: { ok: true, email, subject: email, givenName: 'Tess', familyName: 'Tester', groups: ['Everyone', 'Admins'], role: 'admin', ruleGroup: 'Admins' },
  });
  expect(read.body.result.attributes).toMatchObject({ email: [email], firstName: ['Tess'], groups: ['Everyone', 'Admins'] });
  expect(await counts(setup.org.orgId)).toEqual(before);
  // The answer was taken: the same response again is refused (the request is used, the assertion seen).
  const again = await postToAcs(agent, setup, response.base64);
  expect(again.status).toBe(403);
});

test('a bad signature on a test sign-in reports the failure', async () => {
  const setup = await samlSetup(t);
  const { testId, requestId, agent } = await startTest(setup);
  const forged = samlResponse(setup.idp, setup.sp, { email: personAt(setup) }, { inResponseTo: requestId, signingKey: testIdp('forger') });
  const acs = await postToAcs(agent, setup, forged.base64);
  expect(acs.status).toBe(303);
  const read = await setup.org.owner.api('GET', `/api/v1/orgs/${setup.org.orgId}/connections/${setup.connection.id}/test/${testId}`);
  expect(read.body).toMatchObject({ status: 'failed', result: { ok: false, code: 'saml.signature_invalid' } });
  expect(read.body.result.message).toMatch(/not signed by this connection/);
});

test('a test result of org A cannot be read by org B (404)', async () => {
  const setup = await samlSetup(t);
  const { testId, requestId, agent } = await startTest(setup);
  await postToAcs(agent, setup, samlResponse(setup.idp, setup.sp, { email: personAt(setup) }, { inResponseTo: requestId }).base64);
  const other = await createOrg(t);
  for (const path of [`/api/v1/orgs/${other.orgId}/connections/${setup.connection.id}/test/${testId}`, `/api/v1/orgs/${other.orgId}/connections/${setup.connection.id}/test`]) {
    const res = path.endsWith('/test') ? await other.owner.api('POST', path, { returnTo: '/admin/x' }) : await other.owner.api('GET', path);
    expect(res.status).toBe(404);
  }
  // And org B's credential on org A's path finds nothing either.
  expect((await other.owner.api('GET', `/api/v1/orgs/${setup.org.orgId}/connections/${setup.connection.id}/test/${testId}`)).status).toBe(404);
});

test('a return address outside the console is refused and starts nothing', async () => {
  const setup = await samlSetup(t);
  const path = `/api/v1/orgs/${setup.org.orgId}/connections/${setup.connection.id}/test`;
  for (const returnTo of ['https://evil.example.test/admin/x', '//evil.example.test/admin', '/admin/../oidc', '/interaction/x', `${t.url}/admin/x?next=https://evil`, 'javascript:alert(1)']) {
    const res = await setup.org.owner.api('POST', path, { returnTo });
    expect([res.status, res.body.code]).toEqual([400, 'request.invalid']);
  }
  const rows = await t.db.inOrg(setup.org.orgId, (em) => em.execute('SELECT 1 FROM sso_tests'));
  expect(rows).toHaveLength(0);
  expect((await setup.org.owner.api('POST', path, { returnTo: `${t.url}/admin/orgs/x/sso` })).status).toBe(201);
});

test('a test\'s link starts one request only, and a member without sso:manage cannot start or read tests', async () => {
  const setup = await samlSetup(t);
  const { testId } = await startTest(setup);
  const second = await new FormAgent().request(`${t.url}/sso/test/${setup.connection.id}/${testId}`);
  expect(second.status).toBe(410);
  const member = await addMember(t, setup.org.orgId, 'member');
  expect((await member.api('POST', `/api/v1/orgs/${setup.org.orgId}/connections/${setup.connection.id}/test`, { returnTo: '/admin/x' })).status).toBe(403);
  expect((await member.api('GET', `/api/v1/orgs/${setup.org.orgId}/connections/${setup.connection.id}/test/${testId}`)).status).toBe(403);
});

test('a test\'s request cannot finish a real sign-in, and a real sign-in\'s request cannot be reported as a test', async () => {
  const setup = await samlSetup(t);
  const { testId, requestId, agent } = await startTest(setup);
  const acs = await postToAcs(agent, setup, samlResponse(setup.idp, setup.sp, { email: personAt(setup) }, { inResponseTo: requestId }).base64);
  // Back to the console, never into the hosted sign-in.
  expect(acs.location).toContain('/admin/');
  expect(acs.location).not.toContain('/interaction/');
  const read = await setup.org.owner.api('GET', `/api/v1/orgs/${setup.org.orgId}/connections/${setup.connection.id}/test/${testId}`);
  expect(read.body.status).toBe('passed');
  // A real sign-in's request, answered with a bad signature: the usual error page, no test touched.
  const { rp } = await relyingParty(t);
  const real = await startSamlLogin(t, rp, setup, personAt(setup));
  const forged = samlResponse(setup.idp, setup.sp, { email: personAt(setup) }, { inResponseTo: real.request.id, signingKey: testIdp('forger') });
  const refused = await postToAcs(real.signedIn.agent, setup, forged.base64);
  expect(refused.status).toBe(403);
  expect(refused.html).toContain('Single sign-on failed');
  const tests = await t.db.inOrg(setup.org.orgId, (em) => em.execute('SELECT id FROM sso_tests'));
  expect(tests).toEqual([{ id: testId }]);
});

test('the setup wizard\'s endpoints for a chosen id are the created connection\'s; a taken id is 409 and changes nothing', async () => {
  const org = await createOrg(t);
  const id = randomUUID();
  const urls = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/connection-endpoints?id=${id}`);
  expect(urls.body).toEqual({
    entityId: `${t.url}/sso/saml/${id}/metadata`, acsUrl: `${t.url}/sso/saml/${id}/acs`, metadataUrl: `${t.url}/sso/saml/${id}/metadata`, redirectUri: `${t.url}/sso/oidc/${id}/callback`,
  });
  const idp = testIdp();
  const body = { type: 'saml', id, name: 'Okta', idpEntityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.certificatePem] };
  const created = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/connections`, body);
  expect(created.status).toBe(201);
  expect(created.body.sp).toMatchObject({ entityId: urls.body.entityId, acsUrl: urls.body.acsUrl });
  const other = await createOrg(t);
  for (const [who, orgId] of [[org, org.orgId], [other, other.orgId]] as const) {
    const again = await who.owner.api('POST', `/api/v1/orgs/${orgId}/connections`, { ...body, name: 'Again' });
    expect([again.status, again.body.code]).toEqual([409, 'connection.exists']);
    expect((await who.owner.api('GET', `/api/v1/orgs/${orgId}/connections`)).body.data).toHaveLength(orgId === org.orgId ? 1 : 0);
  }
  const member = await addMember(t, org.orgId, 'member');
  expect((await member.api('GET', `/api/v1/orgs/${org.orgId}/connection-endpoints?id=${id}`)).status).toBe(403);
});
