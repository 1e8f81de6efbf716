import * as oidc from 'openid-client';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import { hashPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { createPlatformClient } from '../../src/oidc/clients.service.ts';
import { SigningKeys } from '../../src/oidc/signing-keys.ts';
import { startApp, startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent, readForm } from '../helpers/browser.ts';
import { createOrg, uniqueEmail } from '../helpers/factories.ts';

// Two Gatehouse nodes on one PostgreSQL database behind one PUBLIC_URL (as behind a load
// balancer): a sign-in started on one completes on the other, and a key rotated through one is
// published by both. PostgreSQL only (jest.config.js): embedded databases are one per process.
const redirectUri = 'https://rp.example.test/callback';
const password = 'correct horse battery staple';
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  a = await startAppAtPublicUrl();
  b = await startApp({ PUBLIC_URL: a.config.publicUrl });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

/** The same request sent to node B: the path of a URL on PUBLIC_URL (node A's address). */
const onB = (url: string) => `${b.url}${new URL(url).pathname}${new URL(url).search}`;

test('a sign-in started on node A completes on node B; node A redeems the code', async () => {
  const org = await createOrg(a);
  const email = uniqueEmail('roamer');
  const user = await a.db.withoutOrg(async (em) => new UsersRepository(em).create({ email, name: null, passwordHash: await hashPassword(password) }));
  await a.db.inOrg(org.orgId, (em) => new MembersRepository(em).create({ orgId: org.orgId, userId: user.id, role: 'member', source: 'invite' }));
  const client = await createPlatformClient(a.db, a.app.services.secrets, { name: 'Web', redirectUris: [redirectUri] });
  const rp = await oidc.discovery(new URL(`${a.url}/oidc`), client.clientId, undefined, oidc.ClientSecretBasic(client.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: redirectUri, scope: 'openid org', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });

  const agent = new FormAgent();
  let page = await agent.follow(url.href, a.url); // node A: authorization request and email page
  let form = readForm(page.html, page.url);
  page = await agent.request(onB(form.action), { form: { ...form.fields, email } }); // node B
  form = readForm(page.html, page.url);
  page = await agent.request(onB(form.action), { form: { ...form.fields, password } }); // node B
  expect(page.status).toBe(303);
  page = await agent.request(onB(page.location!)); // node B resumes the authorization
  expect(page.location).toMatch(/^https:\/\/rp\.example\.test\/callback\?/);

  const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state }); // node A
  expect(tokens.claims()).toMatchObject({ sub: user.id, org_id: org.orgId });
});

test('keys rotated through node A are published by node B', async () => {
  const rotation = await new SigningKeys(a.db, a.app.services.secrets).rotate({ propagationSeconds: 300, maxTokenLifetimeSeconds: 3600 });
  await b.app.issuer.refresh(); // what B's 10-second watch does
  for (const node of [a, b]) {
    await node.app.issuer.refresh();
    const jwks = (await (await fetch(`${node.url}/oidc/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(expect.arrayContaining(rotation.keys.map((k) => k.kid)));
  }
});
