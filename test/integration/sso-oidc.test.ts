import { createHash, randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { socialLinks } from '../../src/federation/platform-sign-in.ts';
import type { Connection } from '../../src/modules/connections/connection.entity.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent } from '../helpers/browser.ts';
import { freePort } from '../helpers/cli.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { startGitHub, type GitHubStandIn, type GitHubUser } from '../helpers/github-stand-in.ts';
import { startIdp, type TestIdp } from '../helpers/oidc-idp.ts';
import { createMember, redirectUri, relyingParty } from '../helpers/sign-in.ts';
import { snapshot } from '../helpers/snapshot.ts';
import { oidcConnection, verifiedDomain } from '../helpers/sso.ts';

// Upstream OIDC: openid-client as the relying party of Gatehouse, Gatehouse as the relying party
// of an upstream oidc-provider instance (and of a second one playing Google, and a GitHub
// stand-in), a browser-like agent per origin carrying cookies between them.
let t: TestApp;
let idp: TestIdp;
let google: TestIdp;
let github: GitHubStandIn;
let rp: oidc.Configuration;
let orgA: TestOrg;
let orgB: TestOrg;
let conn: Connection;
let connB: Connection;
let inactive: Connection;
const domainA = `a-${randomUUID().slice(0, 8)}.example.test`;
const domainB = `b-${randomUUID().slice(0, 8)}.example.test`;

beforeAll(async () => {
  github = await startGitHub('gh-client', 'gh-secret');
  const googlePort = await freePort();
  t = await startAppAtPublicUrl({
    GOOGLE_CLIENT_ID: 'google-client', GOOGLE_CLIENT_SECRET: 'google-secret', GOOGLE_ISSUER: `http://127.0.0.1:${googlePort}`,
    GITHUB_CLIENT_ID: 'gh-client', GITHUB_CLIENT_SECRET: 'gh-secret', GITHUB_URL: github.url, GITHUB_API_URL: github.apiUrl,
  });
  ({ rp } = await relyingParty(t));
  orgA = await createOrg(t);
  orgB = await createOrg(t);
  await verifiedDomain(t, orgA.orgId, domainA);
  await verifiedDomain(t, orgB.orgId, domainB);
  const idpPort = await freePort();
  const upstream = { issuer: `http://127.0.0.1:${idpPort}`, clientId: 'gatehouse', scopes: ['openid', 'email', 'profile', 'groups'] };
  conn = await oidcConnection(t, orgA.orgId, upstream, 'upstream-secret');
  connB = await oidcConnection(t, orgB.orgId, upstream, 'upstream-secret');
  inactive = await oidcConnection(t, orgA.orgId, upstream, 'upstream-secret', { name: 'Old IdP' });
  await t.db.inOrg(orgA.orgId, (em) => em.execute('UPDATE connections SET active = false WHERE id = ?', [inactive.id]));
  const callbacks = [conn, connB, inactive].map((c) => `${t.url}/sso/oidc/${c.id}/callback`);
  idp = await startIdp({ port: idpPort, clients: [{ client_id: 'gatehouse', client_secret: 'upstream-secret', redirect_uris: callbacks }] });
  google = await startIdp({
    port: googlePort, claimsInIdToken: true,
    clients: [{ client_id: 'google-client', client_secret: 'google-secret', redirect_uris: [`${t.url}/sso/google/callback`] }],
  });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([idp?.close(), google?.close(), github?.close()]);
});

type Page = Awaited<ReturnType<FormAgent['request']>>;

/** A browser: one cookie jar per origin; follows redirects until `stop` says so or a page answers. */
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

/** An authorization request of the relying party to Gatehouse. */
async function authorize(params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid email profile org', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state, nonce, ...params,
  });
  const redeem = (page: Page) => {
    if (!page.location?.startsWith(redirectUri)) throw new Error(`sign-in did not return to the client (${page.status}):\n${page.html.slice(0, 600)}`);
    return oidc.authorizationCodeGrant(rp, new URL(page.location), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  };
  return { url: url.href, redeem };
}

const toCallback = (c: Connection) => (location: string) => location.startsWith(`${t.url}/sso/oidc/${c.id}/callback`);

/** Everything SSO could have provisioned: both orgs' rows, users at their domains, identities. */
async function provisioned() {
  const global = await t.db.withoutOrg(async (em) => ({
    users: await em.execute('SELECT id, email FROM users WHERE email LIKE ? OR email LIKE ? ORDER BY id', [`%@${domainA}`, `%@${domainB}`]),
    identities: await em.execute('SELECT id, provider, subject FROM user_identities ORDER BY id'),
  }));
  return { ...global, a: await snapshot(t, orgA.orgId), b: await snapshot(t, orgB.orgId) };
}

function account(sub: string, claims: Record<string, unknown>): string {
  idp.accounts.set(sub, claims);
  idp.nextAccount = sub;
  return sub;
}

test('an upstream OIDC IdP signs a person in through the connection (login_hint): the ID token names the org', async () => {
  const email = `alice-${randomUUID().slice(0, 6)}@${domainA}`;
  account(`alice-${email}`, { email, email_verified: true, given_name: 'Alice', family_name: 'Upstream', groups: ['engineers'] });
  const { url, redeem } = await authorize({ login_hint: email });
  const tokens = await redeem(await new Browser().go(url));
  expect(tokens.claims()).toMatchObject({ email, org_id: orgA.orgId, org_slug: orgA.slug, org_role: 'member' });
  const sent = idp.authorizations.at(-1)!;
  expect(sent.get('redirect_uri')).toBe(`${t.url}/sso/oidc/${conn.id}/callback`);
  expect(sent.get('scope')).toBe('openid email profile groups');
});

test('the authorization request carries PKCE S256, state and nonce, and Gatehouse stored them (verifier sealed)', async () => {
  account('pkce-sub', { email: `pkce@${domainA}` });
  const { url } = await authorize({ login_hint: `pkce@${domainA}` });
  const page = await new Browser().go(url, (l) => l.startsWith(`${idp.issuer}/auth`));
  const sent = new URL(page.location!).searchParams;
  expect(sent.get('code_challenge_method')).toBe('S256');
  expect(sent.get('nonce')).toEqual(expect.any(String));
  const [row] = await t.db.withoutOrg((em) => em.execute<{ nonce: string; code_verifier_sealed: string; connection_id: string; provider: string }[]>(
    'SELECT * FROM sso_requests WHERE id = ?', [sent.get('state')]));
  expect(row).toMatchObject({ provider: 'oidc', connection_id: conn.id, nonce: sent.get('nonce') });
  const verifier = t.app.services.secrets.open(row!.code_verifier_sealed, sent.get('state')!);
  expect(createHash('sha256').update(verifier).digest('base64url')).toBe(sent.get('code_challenge'));
});

test('a callback with an unknown state is rejected (400) and provisions nothing', async () => {
  account('wrong-state', { email: `wrong-state@${domainA}`, email_verified: true });
  const { url } = await authorize({ login_hint: `wrong-state@${domainA}` });
  const browser = new Browser();
  const at = await browser.go(url, toCallback(conn));
  const callback = new URL(at.location!);
  callback.searchParams.set('state', oidc.randomState());
  const before = await provisioned();
  const page = await browser.get(callback.href);
  expect(page.status).toBe(400);
  expect(page.html).toContain('was not started here');
  expect(await provisioned()).toEqual(before);
});

test('the state of one connection is rejected at another connection\'s callback', async () => {
  account('cross', { email: `cross@${domainB}`, email_verified: true });
  const { url } = await authorize({ login_hint: `cross@${domainA}` });
  const browser = new Browser();
  const at = await browser.go(url, toCallback(conn));
  const before = await provisioned();
  const page = await browser.get(at.location!.replace(conn.id, connB.id));
  expect(page.status).toBe(400);
  expect(await provisioned()).toEqual(before);
});

test('a replayed callback (same code and state) is rejected, before and after the sign-in finished', async () => {
  const email = `replay@${domainA}`;
  account('replay-sub', { email, email_verified: true });
  const { url, redeem } = await authorize({ login_hint: email });
  const browser = new Browser();
  const at = await browser.go(url, toCallback(conn));
  const answered = await browser.get(at.location!);
  expect(answered.location).toMatch(/\/interaction\/[^/]+\/sso\/done\//);
  // Answered, not yet taken by the interaction: the same response again is refused.
  const before = await provisioned();
  const early = await new Browser().get(at.location!);
  expect(early.status).toBe(400);
  expect(early.html).toContain('completed already');
  expect(await provisioned()).toEqual(before);
  const tokens = await redeem(await browser.go(answered.location!));
  expect(tokens.claims()).toMatchObject({ email, org_id: orgA.orgId });
  // Taken: the state is gone.
  const after = await provisioned();
  expect(await browser.go(at.location!)).toMatchObject({ status: 400 });
  expect(await provisioned()).toEqual(after);
});

/** Runs a sign-in to the IdP's authorization endpoint, lets `tamper` change the request, then goes on. */
async function tamperedAtIdp(sub: string, tamper: (params: URLSearchParams) => void): Promise<Page> {
  account(sub, { email: `${sub}@${domainA}`, email_verified: true });
  const { url } = await authorize({ login_hint: `${sub}@${domainA}` });
  const browser = new Browser();
  const at = new URL((await browser.go(url, (l) => l.startsWith(`${idp.issuer}/auth`))).location!);
  tamper(at.searchParams);
  return browser.go(at.href);
}

test('an ID token with another nonce than the one Gatehouse sent is rejected (403), nothing provisioned', async () => {
  const before = await provisioned();
  const page = await tamperedAtIdp('nonce-sub', (q) => q.set('nonce', oidc.randomNonce()));
  expect(page.status).toBe(403);
  expect(page.html).toContain('could not be verified');
  expect(await provisioned()).toEqual(before);
});

test('a code bound to another PKCE challenge is refused at the IdP\'s token endpoint (403), nothing provisioned', async () => {
  const before = await provisioned();
  const page = await tamperedAtIdp('pkce-swap', (q) => q.set('code_challenge', oidc.randomPKCECodeVerifier()));
  expect(page.status).toBe(403);
  expect(await provisioned()).toEqual(before);
});

test('a connection whose issuer is not the one its discovery document names cannot start a sign-in', async () => {
  const bad = await oidcConnection(t, orgB.orgId, { issuer: 'http://127.0.0.1:9/not-the-idp', discoveryUrl: `${idp.issuer}/.well-known/openid-configuration`, clientId: 'gatehouse' }, 'upstream-secret');
  const { url } = await authorize();
  const browser = new Browser();
  const emailPage = await browser.go(url);
  const uid = /\/interaction\/([^/"]+)\/email/.exec(emailPage.html)![1];
  const before = await provisioned();
  const page = await browser.get(`${t.url}/interaction/${uid}/sso/${bad.id}`);
  expect(page.status).toBe(400);
  expect(page.html).toContain('not set up correctly');
  expect(await provisioned()).toEqual(before);
});

test('the IdP answers error=access_denied: a clear 403 page, nothing provisioned', async () => {
  idp.nextAccount = null;
  const { url } = await authorize({ login_hint: `denied@${domainA}` });
  const before = await provisioned();
  const page = await new Browser().go(url);
  expect(page.status).toBe(403);
  expect(page.html).toContain('did not sign you in (access_denied)');
  expect(page.html).not.toContain('The person said no');
  expect(await provisioned()).toEqual(before);
});

test('the IdP sends no email (ID token nor userinfo): a clear 403 page, nothing provisioned', async () => {
  account('no-email-sub', { given_name: 'Nobody' });
  const { url } = await authorize({ login_hint: `nobody@${domainA}` });
  const before = await provisioned();
  const page = await new Browser().go(url);
  expect(page.status).toBe(403);
  expect(page.html).toContain('did not send an email address');
  expect(await provisioned()).toEqual(before);
});

test('an inactive, unknown or malformed connection answers 404 at the callback', async () => {
  const before = await provisioned();
  for (const id of [inactive.id, randomUUID(), 'not-a-uuid']) {
    const page = await new Browser().get(`${t.url}/sso/oidc/${id}/callback?state=x&code=y`);
    expect(page.status).toBe(404);
  }
  expect(await provisioned()).toEqual(before);
});

test('a callback without a state is rejected', async () => {
  const page = await new Browser().get(`${t.url}/sso/oidc/${conn.id}/callback?code=abc`);
  expect(page.status).toBe(400);
});

/** Starts at the email page and follows its "Continue with …" link. */
async function viaSocialLink(label: string) {
  const auth = await authorize();
  const browser = new Browser();
  const emailPage = await browser.go(auth.url);
  const href = new RegExp(`<a href="([^"]+)">${label}</a>`).exec(emailPage.html)?.[1];
  if (!href) throw new Error(`no "${label}" link on the email page:\n${emailPage.html}`);
  return { ...auth, page: await browser.go(new URL(href.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c))), t.url).href) };
}

test('Continue with Google: a member whose Google address is verified signs in to their org', async () => {
  const member = await createMember(t, [[orgB, 'viewer']], 'google');
  google.nextAccount = `google-${randomUUID()}`;
  google.accounts.set(google.nextAccount, { email: member.email, email_verified: true, given_name: 'Pat' });
  const { page, redeem } = await viaSocialLink('Continue with Google');
  const tokens = await redeem(page);
  expect(tokens.claims()).toMatchObject({ sub: member.id, org_id: orgB.orgId, org_role: 'viewer' });
  expect(google.authorizations.at(-1)!.get('redirect_uri')).toBe(`${t.url}/sso/google/callback`);
});

test('Continue with Google: an address Google has not verified links to no account', async () => {
  const member = await createMember(t, [[orgB, 'member']], 'unverified');
  google.nextAccount = `google-${randomUUID()}`;
  google.accounts.set(google.nextAccount, { email: member.email, email_verified: false });
  const before = await provisioned();
  const { page } = await viaSocialLink('Continue with Google');
  expect(page.status).toBe(403);
  expect(page.html).toContain('not verified');
  expect(await provisioned()).toEqual(before);
});

function githubUser(email: string, verified: boolean): GitHubUser {
  return {
    id: 4_000_000 + Math.floor(Math.random() * 1_000_000), login: 'octocat', name: 'Octo Cat',
    emails: [{ email: 'other@example.test', primary: false, verified: true, visibility: null }, { email, primary: true, verified, visibility: 'private' }],
  };
}

test('Continue with GitHub: OAuth 2 with PKCE, then the primary verified email of the numeric user id', async () => {
  const member = await createMember(t, [[orgA, 'admin']], 'github');
  github.nextUser = githubUser(member.email, true);
  const { page, redeem } = await viaSocialLink('Continue with GitHub');
  const tokens = await redeem(page);
  expect(tokens.claims()).toMatchObject({ sub: member.id, org_id: orgA.orgId, org_role: 'admin' });
  const sent = github.authorizations.at(-1)!;
  expect(sent.get('code_challenge_method')).toBe('S256');
  expect(sent.has('nonce')).toBe(false);
  const identities = await t.db.withoutOrg((em) => em.execute('SELECT subject FROM user_identities WHERE provider = ? AND user_id = ?', ['github', member.id]));
  expect(identities).toEqual([{ subject: String(github.nextUser.id) }]);
});

test('Continue with GitHub: an unverified primary email is refused, nothing linked', async () => {
  const member = await createMember(t, [[orgA, 'member']], 'gh-unverified');
  github.nextUser = githubUser(member.email, false);
  const before = await provisioned();
  const { page } = await viaSocialLink('Continue with GitHub');
  expect(page.status).toBe(403);
  expect(page.html).toContain('Verify your primary email address on GitHub');
  expect(await provisioned()).toEqual(before);
});

test('Continue with GitHub: a code GitHub does not know (its error answer has status 200) is refused', async () => {
  github.nextUser = githubUser(`nobody-${randomUUID().slice(0, 6)}@example.test`, true);
  const auth = await authorize();
  const browser = new Browser();
  const emailPage = await browser.go(auth.url);
  const href = /<a href="([^"]+)">Continue with GitHub<\/a>/.exec(emailPage.html)![1]!;
  const at = new URL((await browser.go(new URL(href, t.url).href, (l) => l.startsWith(`${t.url}/sso/github/callback`))).location!);
  at.searchParams.set('code', 'forged');
  const before = await provisioned();
  const page = await browser.get(at.href);
  expect(page.status).toBe(403);
  expect(await provisioned()).toEqual(before);
});

test('without a configured client id and secret a provider has no link', () => {
  expect(socialLinks({ ...t.config, googleClientId: undefined, githubClientSecret: undefined }, 'uid')).toEqual([]);
  expect(socialLinks(t.config, 'uid').map((l) => l.label)).toEqual(['Continue with Google', 'Continue with GitHub']);
});

test('a platform callback with a state of another provider, or an unconfigured provider, is rejected', async () => {
  github.nextUser = null;
  google.nextAccount = null;
  const page = await new Browser().get(`${t.url}/sso/github/callback?state=${oidc.randomState()}&code=x`);
  expect(page.status).toBe(400);
  expect((await new Browser().get(`${t.url}/sso/twitter/callback?state=x&code=y`)).status).toBe(404);
});
