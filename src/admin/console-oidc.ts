import * as oidc from 'openid-client';
import type { Config } from '../../config/config.schema.ts';
import { managementApiResource } from '../oidc/provider.ts';
import { consoleClientId, consoleClientSecret, consoleRedirectUri } from './console-client.ts';
import type { ConsoleSession, SignInFlow } from './console-session.ts';
import { newCsrfToken } from './console-session.ts';

export interface ConsoleOidcDeps {
  config: Config;
  /** Where this node listens (loopback): the console reaches its own issuer there, not through the load balancer. */
  selfUrl: () => string;
  /** The claims of an access token for the management API, verified (Issuer.verifyAccessToken). */
  verifyAccessToken: (token: string) => Promise<Record<string, unknown>>;
}

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

/**
 * The console's side of the code flow, through openid-client: PKCE, state and nonce; tokens for
 * the management API (RFC 8707 `resource`), so the console acts through the same API, guards
 * and row-level security as any other client. Switching org is the refresh grant with
 * `organization` (src/oidc/org-switch.ts), which checks membership again.
 */
export class ConsoleOidc {
  readonly #deps: ConsoleOidcDeps;
  #client: Promise<oidc.Configuration> | undefined;

  constructor(deps: ConsoleOidcDeps) {
    this.#deps = deps;
  }

  async authorizationUrl(returnTo: string, organization?: string): Promise<{ url: string; flow: SignInFlow }> {
    const client = await this.#configuration();
    const flow: SignInFlow = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce(), returnTo };
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: consoleRedirectUri(this.#deps.config),
      scope: 'openid email org offline_access',
      // offline_access needs consent by the spec; the console is first-party, consent is implied
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
      resource: managementApiResource(this.#deps.config),
      ...(organization ? { organization } : {}),
    });
    return { url: url.href, flow };
  }

  /** Redeems the code on the callback URL the browser brought back; throws on any mismatch. */
  async finish(callbackUrl: URL, flow: SignInFlow): Promise<ConsoleSession> {
    const client = await this.#configuration();
    const tokens = await oidc.authorizationCodeGrant(client, callbackUrl, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true }, { resource: managementApiResource(this.#deps.config) });
    return this.#session(tokens, newCsrfToken());
  }

  /** New tokens for the same user, in `organization` when given (a switch), keeping the CSRF token. */
  async refresh(session: ConsoleSession, organization?: string): Promise<ConsoleSession> {
    const client = await this.#configuration();
    const tokens = await oidc.refreshTokenGrant(client, session.refreshToken, { resource: managementApiResource(this.#deps.config), ...(organization ? { organization } : {}) });
    return this.#session(tokens, session.csrf, session.refreshToken);
  }

  /** Revokes the refresh token (and with it the grant's tokens); failures are not the user's problem. */
  async revoke(session: ConsoleSession): Promise<void> {
    const client = await this.#configuration();
    await oidc.tokenRevocation(client, session.refreshToken).catch(() => undefined);
  }

  async #session(tokens: Tokens, csrf: string, previousRefresh?: string): Promise<ConsoleSession> {
    const claims = await this.#deps.verifyAccessToken(tokens.access_token);
    const refreshToken = tokens.refresh_token ?? previousRefresh;
    if (!refreshToken || typeof claims.org_id !== 'string' || typeof claims.sub !== 'string') {
      throw new Error('the issuer answered without a refresh token or an org');
    }
    return {
      userId: claims.sub,
      orgId: claims.org_id,
      role: typeof claims.org_role === 'string' ? claims.org_role : '',
      permissions: Array.isArray(claims.permissions) ? claims.permissions.filter((p): p is string => typeof p === 'string') : [],
      accessToken: tokens.access_token,
      accessTokenExpiresAt: Math.floor(Date.now() / 1000) + (tokens.expires_in ?? 60),
      refreshToken,
      csrf,
    };
  }

  #configuration(): Promise<oidc.Configuration> {
    this.#client ??= this.#discover().catch((err: unknown) => {
      this.#client = undefined; // try again on the next request
      throw err;
    });
    return this.#client;
  }

  async #discover(): Promise<oidc.Configuration> {
    const { config } = this.#deps;
    const publicOrigin = new URL(config.publicUrl).origin;
    // Requests to PUBLIC_URL go to this node's loopback listener instead: the issuer's URLs stay
    // the public ones (the ID token's iss is checked against them), only the route differs.
    const viaLoopback: oidc.CustomFetch = (url, options) => {
      const target = url.startsWith(publicOrigin) ? this.#deps.selfUrl() + url.slice(publicOrigin.length) : url;
      return fetch(target, options as RequestInit);
    };
    const insecure = config.publicUrl.startsWith('http://') ? [oidc.allowInsecureRequests] : [];
    const client = await oidc.discovery(new URL(`${config.publicUrl}/oidc`), consoleClientId, undefined, oidc.ClientSecretBasic(consoleClientSecret(config)), { execute: insecure, [oidc.customFetch]: viaLoopback });
    client[oidc.customFetch] = viaLoopback;
    return client;
  }
}
