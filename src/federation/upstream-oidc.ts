import Router from '@koa/router';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { Connection } from '../modules/connections/connection.entity.ts';
import { hostedPages } from '../oidc/interactions/flow.ts';
import { beginCodeFlow, redeemCode, requestOfCallback, type CodeFlowClient } from './oidc-code-flow.ts';
import { hasEmail, profileFromClaims, type Claims } from './oidc-claims.ts';
import { OidcDiscovery, withCause, type OidcClient } from './oidc-discovery.ts';
import { SsoError, ssoRejections, type SsoDeps, type SsoEdge } from './sso-edge.ts';

const uuid = z.uuid();

/** An org's upstream OIDC connection as an openid-client client (discovery cached per connection and issuer). */
class UpstreamOidc {
  readonly #deps: SsoDeps;
  readonly #discovery: OidcDiscovery;

  constructor(deps: SsoDeps, discovery: OidcDiscovery) {
    this.#deps = deps;
    this.#discovery = discovery;
  }

  async client(connection: Connection): Promise<{ client: CodeFlowClient; tenant: string | null }> {
    const settings = connection.oidc;
    if (connection.type !== 'oidc' || !settings || !connection.clientSecretSealed) {
      throw new SsoError(400, 'sso.connection_misconfigured', 'This sign-in connection is not set up. Contact your administrator.');
    }
    const sealed = connection.clientSecretSealed;
    const found: OidcClient = await this.#discovery.configuration({
      key: `${connection.id}@${new Date(connection.updatedAt).getTime()}`, issuer: settings.issuer, discoveryUrl: settings.discoveryUrl, clientId: settings.clientId,
      clientSecret: () => this.#deps.secrets.open(sealed, connection.id),
    });
    const scopes = settings.scopes.includes('openid') ? settings.scopes : ['openid', ...settings.scopes];
    return {
      client: {
        provider: 'oidc', connectionId: connection.id, config: found.config, openid: true, scope: scopes.join(' '),
        redirectUri: `${this.#deps.config.publicUrl}/sso/oidc/${connection.id}/callback`,
      },
      tenant: found.tenant,
    };
  }

  /**
   * The OIDC connection a callback names, when it may take the answer to request `state`: an
   * active one, or an inactive one answering a test sign-in (sso-logins.ts); anything else is a 404.
   */
  async connectionOf(id: string, state: string | null): Promise<Connection> {
    const connection = uuid.safeParse(id).success ? await this.#deps.platform.findConnection(id) : null;
    if (!connection || connection.type !== 'oidc' || !(await this.#deps.logins.answerable(connection, state))) {
      throw new SsoError(404, 'sso.connection_not_found', 'This sign-in connection does not exist or is switched off. Contact your administrator.');
    }
    return connection;
  }
}

/**
 * The claims of a redeemed OIDC response: the validated ID token's, completed by the userinfo
 * endpoint (OIDC Core §5.3, same `sub`) when they hold no email.
 */
export async function claimsOf(client: CodeFlowClient, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, preset: Connection['preset'], mapping: Connection['attributeMapping'] = {}): Promise<Claims> {
  const idClaims = tokens.claims() as Claims | undefined;
  if (!idClaims) throw new SsoError(403, 'sso.id_token_missing', 'Your identity provider did not send an ID token.');
  if (hasEmail(idClaims, preset, mapping) || !client.config.serverMetadata().userinfo_endpoint) return idClaims;
  try {
    const userinfo = await oidc.fetchUserInfo(client.config, tokens.access_token, String(idClaims.sub));
    return { ...userinfo, ...idClaims };
  } catch (err) {
    throw withCause(new SsoError(403, 'sso.userinfo_failed', 'Your identity provider did not answer with your profile. Start again from the application.'), err);
  }
}

async function connectionCallback(ctx: Context, deps: SsoDeps, upstream: UpstreamOidc): Promise<void> {
  const state = typeof ctx.query.state === 'string' ? ctx.query.state : null;
  const connection = await upstream.connectionOf(ctx.params.connectionId!, state);
  try {
    await verifyCallback(ctx, deps, upstream, connection);
  } catch (err) {
    // A test sign-in (its state names it) reports the check that failed to the console.
    if (err instanceof SsoError && (await deps.logins.tests.failed(ctx, connection, state, err))) return;
    throw err;
  }
}

async function verifyCallback(ctx: Context, deps: SsoDeps, upstream: UpstreamOidc, connection: Connection): Promise<void> {
  const request = await requestOfCallback(ctx, deps, 'oidc', connection.id);
  const { client, tenant } = await upstream.client(connection);
  const tokens = await redeemCode(ctx, deps, client, request);
  const claims = await claimsOf(client, tokens, connection.preset, connection.attributeMapping);
  // Entra multi-tenant metadata: the tenant the connection names, again from the token's own claim.
  if (tenant && claims.tid !== tenant) throw new SsoError(403, 'sso.wrong_tenant', 'You signed in with an account of another organization\'s directory.');
  const profile = profileFromClaims(claims, connection.preset, connection.attributeMapping);
  await deps.logins.verified(ctx, { kind: 'connection', connection }, request.id, profile);
}

const shared = new WeakMap<SsoDeps, UpstreamOidc>();

/** One client cache per app (the routes and the edge share it). */
function upstreamOf(deps: SsoDeps): UpstreamOidc {
  let upstream = shared.get(deps);
  if (!upstream) shared.set(deps, (upstream = new UpstreamOidc(deps, new OidcDiscovery(deps.config))));
  return upstream;
}

/** Upstream OIDC connections (openid-client): the callback at /sso/oidc/:connectionId/callback. */
export function upstreamOidcRoutes(deps: SsoDeps): Router {
  const router = new Router({ prefix: '/sso/oidc' });
  const upstream = upstreamOf(deps);
  router.use(hostedPages(), ssoRejections());
  router.get('/:connectionId/callback', (ctx) => connectionCallback(ctx, deps, upstream));
  return router;
}

/** SP-initiated login through an org's OIDC connection: code flow with PKCE, state and nonce. */
export function upstreamOidcEdge(deps: SsoDeps): SsoEdge {
  const upstream = upstreamOf(deps);
  return {
    async start(ctx, connection, interactionUid, testId) {
      const { client } = await upstream.client(connection);
      await beginCodeFlow(ctx, deps, client, interactionUid, testId);
    },
  };
}
