import type { ApiKeyTokens } from '../api-keys/api-key-token.ts';
import type { SetupLinkCredentialRow } from '../platform/platform.repository.ts';
import { builtinRoles } from '../roles/permissions.ts';
import { rolePermissions, type ProductPermissions } from '../roles/product-permissions.ts';
import type { Principal } from '../scope.ts';

// What a setup link may do (issue 8, item 3): configure the org's SSO and/or SCIM and nothing
// else. Its permissions are exactly its scope's, so every other route answers 403 through the
// services' own checks: no list of forbidden routes to forget to update.

export const setupLinkScopes = ['sso', 'scim', 'both'] as const;
export type SetupLinkScope = (typeof setupLinkScopes)[number];

const scopePermissions: Record<SetupLinkScope, readonly string[]> = {
  sso: ['org:read', 'sso:manage'],
  scim: ['org:read', 'directories:manage'],
  both: ['org:read', 'sso:manage', 'directories:manage'],
};

export function permissionsOfScope(scope: SetupLinkScope): readonly string[] {
  return scopePermissions[scope];
}

/**
 * What the link's creator must hold, when making it and on every use: the scope's powers, and
 * for SCIM also the member powers a directory exercises (it adds, changes and removes members),
 * which the link itself never holds (authorizeDirectoryChange lets a link rely on its creator's).
 */
const directoryMemberPowers = ['members:invite', 'members:update', 'members:remove'];

export function creatorPermissionsOfScope(scope: SetupLinkScope): readonly string[] {
  return scope === 'sso' ? scopePermissions.sso : [...scopePermissions[scope], ...directoryMemberPowers];
}

export function isSetupLinkScope(value: string): value is SetupLinkScope {
  return (setupLinkScopes as readonly string[]).includes(value);
}

/**
 * The roles a link may name as the one people arrive with (a connection's or directory's default
 * role, a group rule): no stronger than member, so whoever holds the link cannot make an IdP
 * mint admins, though they hold no member powers themselves.
 */
const grantCeiling: ReadonlySet<string> = new Set(builtinRoles.member.permissions);

/**
 * The principal of a presented link, or null (the same 401 for every reason): the secret must
 * match, the link be unrevoked and unexpired, and its creator still be an active member whose
 * role holds what the link grants, so a link never outlives or exceeds the admin who made it.
 */
export function setupLinkPrincipal(
  tokens: ApiKeyTokens, secret: string, row: SetupLinkCredentialRow, now: number, product: ProductPermissions,
): Principal | null {
  if (!tokens.verify(secret, row.secret_hash, 'setup')) return null;
  if (row.revoked_at || row.expires_at.getTime() <= now || !row.member_role || !isSetupLinkScope(row.scope)) return null;
  const creator = new Set(rolePermissions(row.member_role, row.member_role_permissions, product));
  if (!creatorPermissionsOfScope(row.scope).every((p) => creator.has(p))) return null;
  const permissions = permissionsOfScope(row.scope);
  return {
    orgId: row.org_id,
    // The link speaks for nobody: not for the admin who made it.
    userId: null,
    role: 'setup_link',
    permissions: new Set(permissions),
    grantCeiling,
    credential: { type: 'setup_link', id: row.id, expiresAt: row.expires_at },
  };
}
