import { apiKeyPermissions, apiKeyWorkspaces } from '../modules/api-keys/api-key-credential.ts';
import type { ApiKeyCredentialRow, MemberCredentialRow, ServiceAccountCredentialRow } from '../modules/platform/platform.repository.ts';
import { ownerOnlyPermissions } from '../modules/roles/permissions.ts';
import { rolePermissions, type ProductPermissions } from '../modules/roles/product-permissions.ts';
import type { GatewayPrincipal } from './gateway-principal.ts';

// Principals are built once per cache fill and frozen: every request that hits the cache shares
// the same object (the assertion signer keys its cache on it).

const ownerOnly = new Set<string>(ownerOnlyPermissions);

/** A user's access token: the member's role, permissions and workspaces as of now, not as the token says. */
export function memberPrincipal(
  orgId: string, userId: string, jti: string, member: MemberCredentialRow, expiresAt: number, product: ProductPermissions,
): GatewayPrincipal {
  return Object.freeze({
    orgId,
    orgSlug: member.org_slug,
    userId,
    role: member.role,
    permissions: new Set(rolePermissions(member.role, member.role_permissions, product)),
    credential: Object.freeze({ type: 'access_token' as const, id: jti }),
    workspaceId: null,
    workspaceIds: new Set(member.workspace_ids),
    expiresAt,
  });
}

/**
 * A service account's token: the account's role as of now, without the owner-only permissions
 * (a machine never deletes or transfers an org, creates orgs or manages billing), in its
 * bound workspace or else all of the org's.
 */
export function serviceAccountPrincipal(account: ServiceAccountCredentialRow, expiresAt: number, product: ProductPermissions): GatewayPrincipal {
  return Object.freeze({
    orgId: account.org_id,
    orgSlug: account.org_slug,
    userId: null,
    role: account.role,
    permissions: new Set(rolePermissions(account.role, account.role_permissions, product).filter((p) => !ownerOnly.has(p))),
    credential: Object.freeze({ type: 'service_account' as const, id: account.id }),
    workspaceId: account.workspace_id,
    workspaceIds: new Set(account.workspace_ids),
    expiresAt,
  });
}

/** An API key: what both its role and its creator's hold; null once the creator is not an active member. */
export function apiKeyPrincipal(row: ApiKeyCredentialRow, product: ProductPermissions): GatewayPrincipal | null {
  const permissions = apiKeyPermissions(row, product);
  if (!permissions) return null;
  return Object.freeze({
    orgId: row.org_id,
    orgSlug: row.org_slug,
    userId: row.created_by,
    role: row.key_role,
    permissions,
    credential: Object.freeze({ type: 'api_key' as const, id: row.id }),
    workspaceId: row.workspace_id,
    workspaceIds: new Set(apiKeyWorkspaces(row)),
    expiresAt: row.expires_at?.getTime() ?? Infinity,
  });
}
