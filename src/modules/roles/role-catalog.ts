import type { OrgScope } from '../scope.ts';
import { builtinRoles, isBuiltinRole } from './permissions.ts';
import { RolesRepository } from './roles.repository.ts';

/** A role by key in the scoped org, built-in or custom, with its permissions; null if unknown. */
export async function resolveRole(scope: OrgScope, key: string): Promise<{ key: string; permissions: readonly string[] } | null> {
  if (isBuiltinRole(key)) return { key, permissions: builtinRoles[key].permissions };
  const role = await new RolesRepository(scope.em).findByKey(key);
  return role ? { key: role.key, permissions: role.permissions } : null;
}

/** "Not above": every permission of the role is one the caller holds. */
export function withinCaller(scope: OrgScope, permissions: readonly string[]): boolean {
  return permissions.every((p) => scope.principal === null || scope.principal.permissions.has(p));
}
