import * as oidc from 'openid-client';
import { hashPassword, verifyPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { createPlatformClient } from '../../src/oidc/clients.service.ts';
import { maxSignUpsPerAddress } from '../../src/oidc/interactions/sign-up-throttle.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent, readForm } from '../helpers/browser.ts';
import { uniqueEmail } from '../helpers/factories.ts';

// Self sign-up inside the hosted sign-in, as a browser does it, with openid-client as the
// relying party. Three deployments: sign-up on with personal orgs, on without, and off.
const redirectUri = 'https://rp.example.test/callback';
const password = 'my new account password';

interface Deployment { t: TestApp; rp: oidc.Configuration }
let withOrgs: Deployment;
let withoutOrgs: Deployment;
let off: Deployment;

async function deploy(env: Record<string, string>): Promise<Deployment> {
  const t = await startAppAtPublicUrl(env);
  const client = await createPlatformClient(t.db, t.app.services.secrets, { name: 'Web', redirectUris: [redirectUri] });
  const rp = await oidc.discovery(new URL(`${t.url}/oidc`), client.clientId, undefined, oidc.ClientSecretBasic(client.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  return { t, rp };
}

beforeAll(async () => {
  withOrgs = await deploy({ GATEHOUSE_SIGN_UP: 'true', GATEHOUSE_PERSONAL_ORGS: 'true' });
  withoutOrgs = await deploy({ GATEHOUSE_SIGN_UP: 'true' });
  off = await deploy({});
});
afterAll(async () => {
  for (const d of [withOrgs, withoutOrgs, off]) await d.t.close();
});

// Sign-ups are counted per client address for an hour; every test here comes from 127.0.0.1, so
// each starts from a clean count (only this file signs up through the pages).
beforeEach(() => withOrgs.t.db.withoutOrg((em) => em.execute(`DELETE FROM sign_in_attempts WHERE key LIKE 'signup:ip:%'`)));

/** An authorization request up to its email page, in a fresh browser. */
async function begin(d: Deployment) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(d.rp, {
    redirect_uri: redirectUri, scope: 'openid email profile org', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state,
  });
  const agent = new FormAgent();
  const page = await agent.follow(url.href, d.t.url);
  expect(page.status).toBe(200);
  return { agent, page, verifier, state, uid: /\/interaction\/([^/"]+)\//.exec(page.html)![1]! };
}

/** "Create an account" from the email page, and the sign-up form posted with `fields`. */
async function signUpWith(d: Deployment, fields: Record<string, string>, flow?: Awaited<ReturnType<typeof begin>>) {
  const from = flow ?? (await begin(d));
  const href = /<a href="([^"]+)">Create an account<\/a>/.exec(from.page.html)?.[1];
  expect(href).toBe(`/interaction/${from.uid}/signup`);
  const formPage = await from.agent.request(new URL(href!, d.t.url).href);
  expect(formPage.status).toBe(200);
  const form = readForm(formPage.html, formPage.url);
  let page = await from.agent.request(form.action, { form: { ...form.fields, ...fields } });
  if (page.location?.startsWith(d.t.url)) page = await from.agent.follow(page.location, d.t.url);
  return { ...from, page };
}

/** What a refused sign-up must leave as it was: the email's account (if any), and no personal org named for `name`. */
async function stateOf(d: Deployment, email: string, name = 'Sam Signup') {
  return d.t.db.withoutOrg(async (em) => ({
    users: await em.execute('SELECT id, name, password_hash, updated_at FROM users WHERE lower(email) = lower(?)', [email]),
    orgs: await em.execute('SELECT id FROM organizations WHERE name = ?', [`${name}'s workspace`]),
  }));
}

const fields = (email: string, over: Record<string, string> = {}) => ({ email, name: 'Sam Signup', password, confirm: password, ...over });

test('sign-up on: "Create an account" makes the account, which continues the sign-in into its personal org', async () => {
  const email = uniqueEmail('signup');
  const { page, verifier, state } = await signUpWith(withOrgs, fields(email));
  expect(page.location).toMatch(/^https:\/\/rp\.example\.test\/callback\?/);
  const tokens = await oidc.authorizationCodeGrant(withOrgs.rp, new URL(page.location!), { pkceCodeVerifier: verifier, expectedState: state });
  const user = await withOrgs.t.db.withoutOrg((em) => new UsersRepository(em).findByEmail(email));
  expect(user).toMatchObject({ name: 'Sam Signup' });
  expect(await verifyPassword(password, user!.passwordHash!)).toBe(true);
  const [org] = await withOrgs.t.app.services.platform.orgsOfUser(user!.id);
  expect(tokens.claims()).toMatchObject({ sub: user!.id, org_id: org!.id, org_role: 'owner' });
  expect(org!.name).toBe("Sam Signup's workspace");
});

test('sign-up on without personal orgs: the account is made, and the sign-in says it has no organization yet', async () => {
  const email = uniqueEmail('signup');
  const { page } = await signUpWith(withoutOrgs, fields(email));
  expect(page.status).toBe(403);
  expect(page.html).toContain('does not belong to any organization yet');
  expect(page.location).toBeNull();
  const user = await withoutOrgs.t.db.withoutOrg((em) => new UsersRepository(em).findByEmail(email));
  expect(user).not.toBeNull();
});

test('sign-up off (the default): no link on the email page, and the pages answer 404', async () => {
  const flow = await begin(off);
  expect(flow.page.html).not.toContain('Create an account');
  expect(flow.page.html).not.toContain('/signup');
  const email = uniqueEmail('signup');
  const before = await stateOf(off, email);
  const get = await flow.agent.request(`${off.t.url}/interaction/${flow.uid}/signup`);
  expect(get.status).toBe(404);
  const csrf = readForm(flow.page.html, flow.page.url).fields.csrf!;
  const post = await flow.agent.request(`${off.t.url}/interaction/${flow.uid}/signup`, { form: { csrf, ...fields(email) } });
  expect(post.status).toBe(404);
  expect(await stateOf(off, email)).toEqual(before);
});

test('duplicate sign-up email: 409 with a message that does not say more, nothing changed', async () => {
  const email = uniqueEmail('taken');
  const name = `Second ${email}`;
  for (const d of [withOrgs, withoutOrgs]) {
    // (On PostgreSQL both deployments share one database; embedded, each has its own.)
    await d.t.db.withoutOrg(async (em) => (await new UsersRepository(em).findByEmail(email))
      ?? new UsersRepository(em).create({ email, name: 'First', passwordHash: await hashPassword('the first owner password') }));
    const before = await stateOf(d, email, name);
    const { page } = await signUpWith(d, fields(email.toUpperCase(), { name }));
    expect(page.status).toBe(409);
    expect(page.html).toContain('We could not create that account. If you already have one, sign in or reset your password.');
    // The same form again, filled in as typed, so the person can go on.
    expect(readForm(page.html, page.url).fields).toMatchObject({ email: email.toUpperCase(), name });
    expect(await stateOf(d, email, name)).toEqual(before);
  }
});

describe('a bad sign-up form is refused and creates nothing', () => {
  async function refused(over: Record<string, string>, status: number, message: string) {
    const email = over.email ?? uniqueEmail('signup');
    const before = await stateOf(withOrgs, email);
    const { page } = await signUpWith(withOrgs, fields(email, over));
    expect(page.status).toBe(status);
    expect(page.html).toContain(message);
    expect(await stateOf(withOrgs, email)).toEqual(before);
  }

  test('mismatched confirmation: 400', () => refused({ confirm: `${password}?` }, 400, 'The two passwords are not the same.'));
  test('too short: 400', () => refused({ password: 'too short', confirm: 'too short' }, 400, 'at least 12 characters'));
  test('invalid email: 400', () => refused({ email: 'not-an-email' }, 400, 'Enter a valid email address.'));
  test('a name over 200 characters: 400', () => refused({ name: 'n'.repeat(201) }, 400, 'at most 200 characters'));
  test('missing CSRF field: 403', () => refused({ csrf: '' }, 403, 'This form has expired'));
});

test(`throttle: past ${maxSignUpsPerAddress} sign-ups an hour from one address, 429 and nothing created`, async () => {
  await signUpWith(withOrgs, fields(uniqueEmail('signup')));
  // The address's count as if it had signed up the limit's worth this hour.
  const n = await withOrgs.t.db.withoutOrg((em) => em.execute(
    `UPDATE sign_in_attempts SET failures = ? WHERE key LIKE 'signup:ip:%' RETURNING key`, [maxSignUpsPerAddress]));
  expect(n).toHaveLength(1);
  const email = uniqueEmail('signup');
  const before = await stateOf(withOrgs, email);
  const { page } = await signUpWith(withOrgs, fields(email));
  expect(page.status).toBe(429);
  expect(page.html).toContain('Too many accounts');
  expect(await stateOf(withOrgs, email)).toEqual(before);
});
