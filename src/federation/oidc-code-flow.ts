import type { Context } from 'koa';
import * as oidc from 'openid-client';
import { withCause } from './oidc-discovery.ts';
import { SsoError, type SsoDeps } from './sso-edge.ts';
import type { SsoProvider, SsoRequestRow } from './sso-requests.repository.ts';

/** One authorization-code client: an org's OIDC connection, Google, or GitHub (OAuth 2 without OIDC). */
export interface CodeFlowClient {
  provider: SsoProvider;
  /** The org's connection; null for platform sign-in. */
  connectionId: string | null;
  config: oidc.Configuration;
  redirectUri: string;
  scope: string;
  /** OpenID Connect (an ID token and a nonce), or plain OAuth 2 (GitHub). */
  openid: boolean;
}

/** How long the IdP has to answer (sso_requests.expires_at). */
const requestTtlSeconds = 600;

/**
 * Sends the browser to the IdP: code flow with PKCE S256 (RFC 7636), state, and for OIDC a nonce.
 * The state is the sso_requests id; the verifier is sealed to it, so a leaked row opens nothing.
 */
export async function beginCodeFlow(ctx: Context, deps: SsoDeps, client: CodeFlowClient, interactionUid: string | null, testId?: string): Promise<void> {
  const state = oidc.randomState();
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = client.openid ? oidc.randomNonce() : null;
  await deps.requests.create({
    id: state, provider: client.provider, connectionId: client.connectionId, interactionUid, nonce,
    codeVerifierSealed: deps.secrets.seal(verifier, state), testId: testId ?? null, ttlSeconds: requestTtlSeconds,
  });
  const url = oidc.buildAuthorizationUrl(client.config, {
    redirect_uri: client.redirectUri, scope: client.scope, state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    ...(nonce ? { nonce } : {}),
  });
  ctx.status = 303;
  ctx.redirect(url.href);
}

/** The request this callback answers: its state must be one this deployment sent for this client, unexpired and unanswered. */
export async function requestOfCallback(ctx: Context, deps: SsoDeps, provider: SsoProvider, connectionId: string | null): Promise<SsoRequestRow> {
  const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
  const request = state.length > 0 && state.length <= 128 ? await deps.requests.find(state, provider, connectionId) : null;
  if (!request) throw new SsoError(400, 'sso.state_unknown', 'This sign-in has expired or was not started here. Start again from the application.');
  if (request.used_at) throw new SsoError(400, 'sso.state_used', 'This sign-in was completed already. Start again from the application.');
  const error = ctx.query.error;
  if (error !== undefined) {
    // RFC 6749 §4.1.2.1: only the error code is shown (the description is the IdP's free text).
    const code = typeof error === 'string' && /^[\w.-]{1,64}$/.test(error) ? error : 'error';
    throw new SsoError(403, 'sso.idp_error', `Your identity provider did not sign you in (${code}). Start again from the application, or contact your administrator.`);
  }
  return request;
}

/**
 * Redeems the callback's code (RFC 6749 §4.1.3) with openid-client: state, PKCE verifier, and for
 * OIDC the ID token's signature, iss, aud, exp and nonce are checked by the library.
 */
export async function redeemCode(ctx: Context, deps: SsoDeps, client: CodeFlowClient, request: SsoRequestRow) {
  if (!request.code_verifier_sealed) throw new SsoError(400, 'sso.state_unknown', 'This sign-in has expired. Start again from the application.');
  const verifier = deps.secrets.open(request.code_verifier_sealed, request.id);
  // The redirect_uri sent is the one registered, whatever host or proxy the callback came through.
  const currentUrl = new URL(`${client.redirectUri}?${ctx.querystring}`);
  const checks: oidc.AuthorizationCodeGrantChecks = {
    pkceCodeVerifier: verifier, expectedState: request.id, idTokenExpected: client.openid,
    ...(client.openid ? { expectedNonce: request.nonce ?? '' } : {}),
  };
  try {
    return await oidc.authorizationCodeGrant(client.config, currentUrl, checks);
  } catch (err) {
    throw withCause(new SsoError(403, 'sso.token_rejected', 'Your identity provider\'s answer could not be verified. Start again from the application.'), err);
  }
}

