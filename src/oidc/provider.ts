import { hkdfSync } from 'node:crypto';
import type { JWK, JWTPayload } from 'jose';
import Provider, { errors, type Configuration, type CanBePromise, type KoaContextWithOIDC, type ResourceServer, type TokenEndpointGrantContext } from 'oidc-provider';
import type { Config } from '../../config/config.schema.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../db/database.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import { rolePermissions, type ProductPermissions } from '../modules/roles/product-permissions.ts';
import { serviceAccountClientId } from '../modules/service-accounts/service-accounts.service.ts';
import { UsersRepository } from '../modules/users/users.repository.ts';
import { createAdapterFactory } from './adapter.ts';
import { logoutPage, signedOutPage } from './interactions/views.ts';
import type { PlanDeps } from '../modules/billing/plan-gate.ts';
import { GrantClaims, planClaimsOf } from './org-claims.ts';
import { refreshWithOrgSwitch } from './org-switch.ts';
import { tokenExchange, tokenExchangeGrantType, tokenExchangeParameters } from './token-exchange.ts';
import { maxSignedTokenLifetimeSeconds } from './signing-keys.ts';
import { ClientStore } from './client-store.ts';
import type { ServiceAccountClients } from './service-account-clients.ts';

export interface IssuerDeps {
  config: Config;
  db: Database;
  platform: PlatformRepository;
  secrets: SecretBox;
  serviceAccountClients: ServiceAccountClients;
  /** The route policy's product permissions: tokens' `permissions` claim includes them. */
  productPermissions: ProductPermissions;
  /** The plans and whether billing is on: tokens' `plan` and `features` claims. */
  plans: PlanDeps['plans'];
  billing: boolean;
}

/**
 * Keys that sign the issuer's cookies. The provider is mounted in Gatehouse's Koa app, whose
 * context it then uses, so the app gets these keys too (app.ts).
 */
export function cookieKeys(config: Config): string[] {
  return [Buffer.from(hkdfSync('sha256', Buffer.from(config.secretKey), Buffer.alloc(0), 'gatehouse oidc cookies v1', 32)).toString('base64url')];
}

/** The issuer's URL and the resources (RFC 8707) it issues JWT access tokens for. */
export function issuerUrl(config: Config): string {
  return `${config.publicUrl}/oidc`;
}

export function managementApiResource(config: Config): string {
  return `${config.publicUrl}/api/v1`;
}

/** The gateway in front of the product API (GATEWAY_RESOURCE, default PUBLIC_URL/gateway). */
export function gatewayResource(config: Config): string {
  return config.gatewayResource ?? `${config.publicUrl}/gateway`;
}

const accessTokenTtl = 600;

type GrantHandler<P extends object> = (ctx: TokenEndpointGrantContext<P>) => CanBePromise<void>;
type GrantParams = string | readonly string[] | ReadonlySet<string>;

/** Verifies a JWT access token this issuer signed for `audience` (Issuer.verifyAccessToken). */
export type VerifyAccessToken = (token: string, audience: string) => Promise<JWTPayload>;

/**
 * One oidc-provider instance for a given set of signing keys. State lives in PostgreSQL (the
 * adapter) and clients in our own tables, so any number of these, on any node, act as one issuer.
 */
export function createProvider(deps: IssuerDeps, jwks: { keys: JWK[] }, verifyJwt: VerifyAccessToken): Provider {
  const { config, db } = deps;
  const clients = new ClientStore(deps);
  const Adapter = createAdapterFactory(db);
  const secure = config.publicUrl.startsWith('https://');
  const resources = new Set([managementApiResource(config), gatewayResource(config)]);

  const claims = new GrantClaims(db, (grantId) => deps.platform.findGrantOrg(grantId), deps.productPermissions, deps);
  const resourceServer = (resource: string): ResourceServer => {
    if (!resources.has(resource)) throw new errors.InvalidTarget('unknown resource');
    return { scope: 'api', audience: resource, accessTokenTTL: accessTokenTtl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
  };
  const userActive = async (userId: string) => {
    const user = await db.withoutOrg((em) => new UsersRepository(em).findById(userId));
    return !!user && !user.disabledAt;
  };

  const configuration: Configuration = {
    adapter: (name: string) => (name === 'Client' ? clients : new Adapter(name)),
    jwks: jwks as Configuration['jwks'],
    cookies: {
      long: { signed: true, httpOnly: true, sameSite: 'lax', secure },
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure },
    },
    claims: {
      // amr (RFC 8176 values: pwd, otp) is the interaction's login result; listing it here lets it
      // into the ID token, whose claims are masked to the scopes' lists.
      openid: ['sub', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      org: ['org_id', 'org_slug', 'org_role', 'permissions', 'teams', 'plan', 'features'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'org'],
    // Only the algorithms Gatehouse signs with; `none` and symmetric ones are never accepted.
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256'],
      authorizationSigningAlgValues: ['ES256', 'RS256'],
      requestObjectSigningAlgValues: ['ES256', 'RS256'],
      clientAuthSigningAlgValues: ['ES256', 'RS256'],
    },
    pkce: { required: () => true },
    findAccount: async (ctx, sub, token) => {
      const user = await db.withoutOrg((em) => new UsersRepository(em).findById(sub));
      // a disabled user has no account as far as the issuer knows: no refresh, no userinfo
      if (!user || user.disabledAt) return undefined;
      const grantId = token && 'grantId' in token ? (token.grantId as string | undefined) : undefined;
      return {
        accountId: user.id,
        claims: async (_use, scope) => ({
          sub: user.id,
          email: user.email,
          email_verified: false,
          name: user.name ?? undefined,
          ...(scope.split(' ').includes('org') && grantId ? await claims.of(ctx, grantId) : {}),
        }),
      };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    extraParams: ['organization'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = signedOutPage(ctx.oidc.client?.clientName);
        },
      },
      backchannelLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Service accounts always get an API token; a signed-in user's client asks for a resource
        // when it wants one, and otherwise gets an opaque token for userinfo.
        defaultResource: (_ctx, client) => (client.grantTypes?.includes('client_credentials') ? managementApiResource(config) : undefined),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => resourceServer(resource),
      },
    },
    extraTokenClaims: (ctx: KoaContextWithOIDC, token) => {
      if (token.kind === 'AccessToken' && token.grantId) return claims.of(ctx, token.grantId);
      return orgClaimsOfServiceAccount(deps, token.clientId);
    },
    // Every refresh returns a new refresh token; presenting a used one again revokes the whole
    // grant (RFC 9700 §4.14.2: it was stolen, or the client is confused).
    rotateRefreshToken: true,
    // The ID token carries the claims of its scopes too, not only userinfo (DESIGN.md contracts).
    conformIdTokenClaims: false,
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: 60,
      // a retired key stays published this long after it stops signing (signing-keys.ts)
      IdToken: maxSignedTokenLifetimeSeconds,
      Interaction: 15 * 60,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    // Every URL the provider fetches (back-channel logout) was registered by the platform
    // operator (there is no dynamic registration), and the product's apps usually sit on private
    // addresses, which oidc-provider's SSRF guard would refuse: plain fetch, with its timeout.
    fetch: (url, options) => {
      const { dispatcher: _guard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    },
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
  const switchDeps = { db, platform: deps.platform, claims };
  // oidc-provider registers its built-in grants from its constructor through this method: the
  // refresh_token grant is wrapped there to accept `organization` (org switching).
  const GatehouseProvider = class extends Provider {
    override registerGrantType<P extends object>(name: string, handler: GrantHandler<P>, params?: GrantParams, dupes?: GrantParams): void {
      if (name !== 'refresh_token') return super.registerGrantType(name, handler, params, dupes);
      super.registerGrantType(name, refreshWithOrgSwitch(handler as never, switchDeps), [...(typeof params === 'string' ? [params] : params ?? []), 'organization'], dupes);
    }
  };
  const provider = new GatehouseProvider(issuerUrl(config), configuration);
  provider.registerGrantType(tokenExchangeGrantType, tokenExchange({ ...switchDeps, resources, resourceServer, verifyJwt, userActive }) as never, tokenExchangeParameters, ['resource']);
  provider.proxy = config.trustProxy;
  provider.keys = cookieKeys(config);
  return provider;
}

/**
 * A service account's token says which org it acts in, what it may do there, and the org's plan
 * and features, as a user's token does (the plan read at issue: a plan change shows in the next).
 */
async function orgClaimsOfServiceAccount(deps: IssuerDeps, clientId: string | undefined) {
  if (!clientId || !serviceAccountClientId.test(clientId)) return undefined;
  // The same per-node cache the client was just read from: no second lookup of the client.
  const account = await deps.serviceAccountClients.find(clientId);
  if (!account) return undefined;
  return {
    org_id: account.org_id,
    org_slug: account.org_slug,
    org_role: account.role,
    permissions: [...rolePermissions(account.role, account.role_permissions, deps.productPermissions)],
    ...(await planClaimsOf(deps.db, account.org_id, deps)),
  };
}
