import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Connection, SamlSettings } from '../../src/modules/connections/connection.entity.ts';
import type { TestApp } from './app.ts';
import { FormAgent, readForm } from './browser.ts';
import { createOrg, type TestOrg } from './factories.ts';
import { readPostRequest, readRedirectRequest, testIdp, type AuthnRequestInfo, type TestIdp } from './saml-idp.ts';
import type { SpTarget } from './saml-idp-response.ts';
import { redirectUri, signIn, type SignedIn } from './sign-in.ts';
import { samlConnection, verifiedDomain, type ConnectionFixture } from './sso.ts';

// A SAML sign-in as a browser goes through it: the product's authorization request with a
// login_hint, home-realm discovery to the connection, the AuthnRequest at the (test) IdP, the
// IdP's POST to the ACS, and back through the hosted sign-in to the product with a code.

export interface SamlSetup {
  org: TestOrg;
  domain: string;
  idp: TestIdp;
  connection: Connection;
  sp: SpTarget;
}

/** An org with a verified domain and a SAML connection to a new test IdP. */
export async function samlSetup(t: TestApp, saml: Partial<SamlSettings> = {}, opts: ConnectionFixture = {}, idp = testIdp()): Promise<SamlSetup> {
  const org = await createOrg(t);
  const domain = `corp-${randomBytes(4).toString('hex')}.example.test`;
  await verifiedDomain(t, org.orgId, domain);
  const connection = await samlConnection(t, org.orgId, { idpEntityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.certificatePem], ...saml }, opts);
  const base = `${t.url}/sso/saml/${connection.id}`;
  return { org, domain, idp, connection, sp: { entityId: `${base}/metadata`, acsUrl: `${base}/acs`, certificatePem: connection.saml!.spCertificate } };
}

export function personAt(setup: SamlSetup, label = 'person'): string {
  return `${label}-${randomBytes(3).toString('hex')}@${setup.domain}`;
}

export interface StartedLogin { signedIn: SignedIn; request: AuthnRequestInfo }

/** The product's authorization request with login_hint: ends at the IdP with a signed AuthnRequest. */
export async function startSamlLogin(t: TestApp, rp: oidc.Configuration, setup: SamlSetup, email: string, agent = new FormAgent()): Promise<StartedLogin> {
  const signedIn = await signIn(t, rp, { login_hint: email }, { email, password: '' }, undefined, agent);
  const { page } = signedIn;
  if (page.status === 303 && page.location?.startsWith(setup.idp.ssoUrl)) {
    return { signedIn, request: readRedirectRequest(page.location, setup.sp.certificatePem) };
  }
  if (page.status === 200 && page.html.includes('name="SAMLRequest"')) {
    const form = readForm(page.html, page.url);
    if (form.action !== setup.idp.ssoUrl) throw new Error(`the POST binding form goes to ${form.action}`);
    return { signedIn, request: readPostRequest(form.fields.SAMLRequest!, setup.sp.certificatePem) };
  }
  throw new Error(`the sign-in did not reach the IdP (status ${page.status}, location ${page.location}):\n${page.html.slice(0, 400)}`);
}

export type Page = Awaited<ReturnType<FormAgent['request']>>;

/** The IdP's HTTP-POST of the response to the ACS, from the same browser. */
export function postToAcs(agent: FormAgent, setup: SamlSetup, samlResponse: string, extra: Record<string, string> = {}): Promise<Page> {
  return agent.request(setup.sp.acsUrl, { form: { SAMLResponse: samlResponse, ...extra } });
}

/** From the ACS's redirect back to the product: its code redeemed, the ID token's claims. */
export async function finishAtProduct(t: TestApp, rp: oidc.Configuration, started: SignedIn, acs: Page): Promise<oidc.IDToken> {
  if (acs.status !== 303 || !acs.location) throw new Error(`the ACS answered ${acs.status}:\n${acs.html.slice(0, 400)}`);
  const page = await started.agent.follow(acs.location, t.url);
  if (!page.location?.startsWith(redirectUri)) throw new Error(`the sign-in did not return to the product (status ${page.status}):\n${page.html.slice(0, 600)}`);
  return redeem(rp, started, page.location);
}

/** The product's side of the callback: the code redeemed with PKCE, state and nonce; the ID token's claims. */
export async function redeem(rp: oidc.Configuration, started: SignedIn, callback: string): Promise<oidc.IDToken> {
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(callback), { pkceCodeVerifier: started.verifier, expectedState: started.state, expectedNonce: started.nonce });
  return tokens.claims()!;
}
