import * as oidc from 'openid-client';
import { createPlatformClient } from '../../src/oidc/clients.service.ts';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import { hashPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import type { TestApp } from './app.ts';
import { FormAgent, readForm } from './browser.ts';
import { uniqueEmail, type TestOrg } from './factories.ts';

// The relying party side of the hosted sign-in, with openid-client (an independent
// implementation) and forms posted as a browser would.
export const redirectUri = 'https://rp.example.test/callback';
export const testPassword = 'correct horse battery staple';

/** A platform client registered with Gatehouse, as openid-client's configuration for it. */
export async function relyingParty(t: TestApp, options: { backchannelLogoutUri?: string; postLogoutRedirectUris?: string[] } = {}): Promise<{ rp: oidc.Configuration; clientId: string }> {
  const client = await createPlatformClient(t.db, t.app.services.secrets, { name: 'Web', redirectUris: [redirectUri], ...options });
  const rp = await oidc.discovery(new URL(`${t.url}/oidc`), client.clientId, undefined, oidc.ClientSecretBasic(client.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  return { rp, clientId: client.clientId };
}

/** A user with a password and the given roles in the given orgs. */
export async function createMember(t: TestApp, roles: [TestOrg, string][], label = 'person'): Promise<{ id: string; email: string }> {
  const email = uniqueEmail(label);
  const user = await t.db.withoutOrg(async (em) => new UsersRepository(em).create({ email, name: 'Pat Person', passwordHash: await hashPassword(testPassword) }));
  for (const [org, role] of roles) {
    await t.db.inOrg(org.orgId, (em) => new MembersRepository(em).create({ orgId: org.orgId, userId: user.id, role, source: 'invite' }));
  }
  return { id: user.id, email };
}

export interface SignedIn {
  page: { status: number; location: string | null; html: string; url: string };
  verifier: string;
  state: string;
  nonce: string;
  agent: FormAgent;
}

/** Starts an authorization request and signs in through the forms, picking `pickOrg` if asked. */
export async function signIn(t: TestApp, rp: oidc.Configuration, params: Record<string, string>, creds: { email: string; password: string }, pickOrg?: string, agent = new FormAgent()): Promise<SignedIn> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid email profile org offline_access', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state, nonce, prompt: 'consent', ...params,
  });
  let page = await agent.follow(url.href, t.url);
  if (page.html.includes('name="email"')) {
    let form = readForm(page.html, page.url);
    page = await agent.request(form.action, { form: { ...form.fields, email: creds.email } });
    form = readForm(page.html, page.url);
    page = await agent.request(form.action, { form: { ...form.fields, password: creds.password } });
  }
  if (page.status === 200 && page.html.includes('name="organization"') && pickOrg) {
    const form = readForm(page.html, page.url);
    page = await agent.request(form.action, { form: { csrf: form.fields.csrf!, organization: pickOrg } });
  }
  if (page.location?.startsWith(t.url)) page = await agent.follow(page.location, t.url);
  return { page, verifier, state, nonce, agent };
}

/** Signs in and redeems the code: the relying party's tokens. */
export async function tokensFor(t: TestApp, rp: oidc.Configuration, params: Record<string, string>, creds: { email: string; password: string }): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const { page, verifier, state, nonce } = await signIn(t, rp, params, creds);
  if (!page.location) throw new Error(`sign-in did not return to the client (status ${page.status}):\n${page.html.slice(0, 400)}`);
  const resource = params.resource ? { resource: params.resource } : undefined;
  return oidc.authorizationCodeGrant(rp, new URL(page.location), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }, resource);
}
