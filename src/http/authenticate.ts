import type { Context, Next } from 'koa';
import { UnauthorizedError } from '../errors.ts';
import type { ApiKeyUsage } from '../gateway/api-key-usage.ts';
import { apiKeyPermissions, apiKeySecretValid } from '../modules/api-keys/api-key-credential.ts';
import type { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import { setupLinkPrincipal } from '../modules/setup-links/setup-link-credential.ts';
import { ownerOnlyPermissions } from '../modules/roles/permissions.ts';
import { rolePermissions, type ProductPermissions } from '../modules/roles/product-permissions.ts';
import type { ServiceAccountClient } from '../oidc/service-account-clients.ts';
import type { Principal } from '../modules/scope.ts';

export interface AuthenticateDeps {
  platform: PlatformRepository;
  apiKeyTokens: ApiKeyTokens;
  /** The claims of a JWT access token issued by Gatehouse for this API, or throws. */
  verifyAccessToken: (token: string) => Promise<Record<string, unknown>>;
  /** An active service account by client id (the issuer's per-node cache, emptied on revocation). */
  findServiceAccount: (clientId: string) => Promise<ServiceAccountClient | undefined>;
  /** The route policy's product permissions, which built-in roles hold beside Gatehouse's own. */
  productPermissions: ProductPermissions;
  /** Counts each use of an org API key, written in batches (usage count and last-used time). */
  apiKeyUsage: ApiKeyUsage;
}

/**
 * The platform team, from a platform API key: it belongs to no org, so it is a type of its own,
 * never a Principal, and is kept in ctx.state.platformPrincipal (never ctx.state.principal).
 */
export interface PlatformPrincipal {
  keyId: string;
}

const ownerOnly = new Set<string>(ownerOnlyPermissions);
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Establishes who calls from `Authorization: Bearer <credential>`: ctx.state.principal for an org
 * API key (`gh_<keyid>_<secret>`), a setup link (`ghs_<linkid>_<secret>`) or a user's JWT access
 * token for this API from Gatehouse's issuer; ctx.state.platformPrincipal for a platform API key (`ghp_<keyid>_<secret>`). Never
 * both: each zone's guard (api.ts) asks for the one it needs. Every failure answers the same 401
 * so a caller learns nothing about which part was wrong.
 */
export function authenticate(deps: AuthenticateDeps) {
  return async function authenticateBearer(ctx: Context, next: Next): Promise<void> {
    const token = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
    if (token?.startsWith('ghp_')) {
      const platformPrincipal = await fromPlatformKey(deps, token);
      if (!platformPrincipal) unauthenticated(ctx);
      ctx.state.platformPrincipal = platformPrincipal;
      return next();
    }
    const principal = token ? await fromOrgCredential(deps, token) : null;
    if (!principal) unauthenticated(ctx);
    ctx.state.principal = principal;
    await next();
  };
}

function fromOrgCredential(deps: AuthenticateDeps, token: string): Promise<Principal | null> {
  if (jwtShape.test(token)) return fromAccessToken(deps, token);
  return token.startsWith('ghs_') ? fromSetupLink(deps, token) : fromApiKey(deps, token);
}

function unauthenticated(ctx: Context): never {
  ctx.set('WWW-Authenticate', 'Bearer realm="gatehouse"');
  throw new UnauthorizedError();
}

async function fromPlatformKey(deps: AuthenticateDeps, token: string): Promise<PlatformPrincipal | null> {
  const parsed = deps.apiKeyTokens.parse(token, 'platform');
  if (!parsed) return null;
  const row = await deps.platform.findPlatformKeyCredential(parsed.id);
  if (!row || !deps.apiKeyTokens.verify(parsed.secret, row.secret_hash, 'platform') || row.revoked_at) return null;
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
    await deps.platform.markPlatformKeyUsed(row.id);
  }
  return { keyId: row.id };
}

/**
 * A setup link (`ghs_<linkid>_<secret>`): an org principal holding only its scope's permissions
 * and speaking for no user (setup-link-credential.ts). The management API alone accepts it; the
 * gateway does not know the prefix, so it never reaches the product.
 */
async function fromSetupLink(deps: AuthenticateDeps, token: string): Promise<Principal | null> {
  const parsed = deps.apiKeyTokens.parse(token, 'setup');
  if (!parsed) return null;
  const row = await deps.platform.findSetupLinkCredential(parsed.id);
  if (!row) return null;
  const principal = setupLinkPrincipal(deps.apiKeyTokens, parsed.secret, row, Date.now(), deps.productPermissions);
  if (principal && (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000)) await deps.platform.markSetupLinkUsed(row.id);
  return principal;
}

/** An org API key, checked as the gateway checks it (api-key-credential.ts): rotation grace included. */
async function fromApiKey(deps: AuthenticateDeps, token: string): Promise<Principal | null> {
  const parsed = deps.apiKeyTokens.parse(token);
  if (!parsed) return null;
  const row = await deps.platform.findApiKeyCredential(parsed.id);
  if (!row || !apiKeySecretValid(deps.apiKeyTokens, parsed.secret, row, Date.now())) return null;
  // A key lives only while its creator is a member; it never exceeds the creator's rights.
  const permissions = apiKeyPermissions(row, deps.productPermissions);
  if (!permissions) return null;
  deps.apiKeyUsage.count(row.id);
  return {
    orgId: row.org_id,
    userId: row.created_by,
    role: row.key_role,
    permissions,
    credential: { type: 'api_key', id: row.id, expiresAt: row.expires_at },
  };
}

/**
 * A user's access token: the signature, issuer, audience, type and expiry are checked by the
 * verifier; the role and permissions are the member's as of now (not as the token says), so a
 * removal or a demotion takes effect before the token expires.
 */
async function fromAccessToken(deps: AuthenticateDeps, token: string): Promise<Principal | null> {
  const claims = await deps.verifyAccessToken(token).catch(() => null);
  if (claims && typeof claims.client_id === 'string' && claims.sub === claims.client_id) return fromServiceAccountToken(deps, claims);
  const { sub, org_id: orgId, jti, exp } = claims ?? {};
  if (typeof sub !== 'string' || !uuidShape.test(sub) || typeof orgId !== 'string' || !uuidShape.test(orgId)) return null;
  const member = await deps.platform.findMemberCredential(orgId, sub);
  if (!member) return null;
  return {
    orgId,
    userId: sub,
    role: member.role,
    permissions: new Set(rolePermissions(member.role, member.role_permissions, deps.productPermissions)),
    credential: { type: 'access_token', id: typeof jti === 'string' ? jti : '', expiresAt: typeof exp === 'number' ? new Date(exp * 1000) : null },
  };
}

/**
 * A service account's client_credentials token (RFC 9068: sub is the client). The account must
 * still be active (revocation reaches every node's cache at once) and in the org the token
 * names; it acts with its role as of now, without the owner-only permissions: a machine never
 * deletes or transfers an org, creates orgs or manages billing.
 */
async function fromServiceAccountToken(deps: AuthenticateDeps, claims: Record<string, unknown>): Promise<Principal | null> {
  const account = await deps.findServiceAccount(String(claims.client_id));
  if (!account || claims.org_id !== account.org_id) return null;
  return {
    orgId: account.org_id,
    userId: null,
    role: account.role,
    permissions: new Set(rolePermissions(account.role, account.role_permissions, deps.productPermissions).filter((p) => !ownerOnly.has(p))),
    credential: { type: 'service_account', id: account.id, expiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : null },
  };
}
