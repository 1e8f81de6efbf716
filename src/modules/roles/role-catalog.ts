import { ForbiddenError, ValidationError } from '../../errors.ts';
import type { OrgScope } from '../scope.ts';
import { builtinRoles, isBuiltinRole } from './permissions.ts';
import { RolesRepository } from './roles.repository.ts';

export interface ResolvedRole {
  key: string;
  permissions: readonly string[];
}

/** A role by key in the scoped org, built-in or custom, with its permissions; null if unknown. */
export async function resolveRole(scope: OrgScope, key: string): Promise<ResolvedRole | null> {
  if (isBuiltinRole(key)) return { key, permissions: builtinRoles[key].permissions };
  const role = await new RolesRepository(scope.em).findByKey(key);
  return role ? { key: role.key, permissions: role.permissions } : null;
}

/**
 * "Not above": every permission of the role is one the caller holds. A caller with a grant
 * ceiling (a setup link) is bounded by the ceiling alone, never by its own powers: else it could
 * hand its temporary sso:manage or directories:manage to everyone its IdP signs in, for good.
 */
export function withinCaller(scope: Pick<OrgScope, 'principal'>, permissions: readonly string[]): boolean {
  const principal = scope.principal;
  if (principal === null) return true;
  const bound = principal.grantCeiling ?? principal.permissions;
  return permissions.every((p) => bound.has(p));
}

/** Nobody grants, or deals in, a role holding permissions they lack. */
export function assertWithinCaller(scope: OrgScope, permissions: readonly string[]): void {
  if (!withinCaller(scope, permissions)) {
    throw new ForbiddenError('role.above_caller', 'That role holds permissions you do not.');
  }
}

/** A role the caller may grant: it exists (else 400 on `field`) and is not above the caller. */
export async function grantableRole(scope: OrgScope, key: string, field = 'body.role'): Promise<ResolvedRole> {
  const role = await resolveRole(scope, key);
  if (!role) throw new ValidationError([{ field, message: `unknown role "${key}"` }]);
  assertWithinCaller(scope, role.permissions);
  return role;
}

/** Nobody manages a member (or their keys) whose role exceeds their own: admins never touch the owner. */
export async function assertMemberWithinCaller(scope: OrgScope, memberRole: string): Promise<void> {
  const role = await resolveRole(scope, memberRole);
  if (role && !withinCaller(scope, role.permissions)) {
    throw new ForbiddenError('member.above_caller', 'That member\'s role holds permissions you do not.');
  }
}
