// The permission catalogue and the built-in roles' matrix. Custom roles are made from the
// grantable permissions; the owner-only ones stay with the single owner.

export const permissionCatalogue = {
  'org:read': 'See the organization',
  'org:update': 'Rename the organization and change its settings',
  'org:delete': 'Delete the organization',
  'org:transfer': 'Transfer ownership of the organization',
  'org:create': 'Create further organizations owned by the same person',
  'billing:manage': 'Manage billing and the plan',
  'members:read': 'See members and their roles',
  'members:invite': 'Invite people, resend and cancel invitations',
  'members:update': 'Change members\' roles',
  'members:remove': 'Remove members',
  'roles:read': 'See roles and permissions',
  'roles:manage': 'Create, change and delete custom roles',
  'teams:read': 'See teams and their members',
  'teams:manage': 'Create, change and delete teams and their membership',
  'api_keys:create': 'Create and revoke one\'s own API keys',
  'api_keys:manage': 'See and revoke every API key of the organization',
  'service_accounts:manage': 'Create, see and revoke the organization\'s service accounts (OAuth client credentials)',
  'audit:read': 'Read and export the audit trail',
  'sso:manage': 'Set up enterprise SSO: connections, verified domains and SSO enforcement',
  'directories:manage': 'Set up SCIM directories: their tokens, default role and group rules',
  'workspaces:manage': 'Create, rename and delete workspaces, and limit members to some of them',
} as const;

export type Permission = keyof typeof permissionCatalogue;
export const allPermissions = Object.keys(permissionCatalogue) as Permission[];

export const ownerOnlyPermissions: readonly Permission[] = ['org:delete', 'org:transfer', 'org:create', 'billing:manage'];
export const grantablePermissions = allPermissions.filter((p) => !ownerOnlyPermissions.includes(p));

const read: Permission[] = ['org:read', 'members:read', 'roles:read', 'teams:read'];

export const builtinRoles = {
  owner: { name: 'Owner', description: 'Everything, including billing and deleting the organization', permissions: allPermissions },
  admin: { name: 'Admin', description: 'Runs the organization; never touches the owner', permissions: grantablePermissions },
  member: { name: 'Member', description: 'Uses the product and creates their own API keys', permissions: [...read, 'api_keys:create'] },
  viewer: { name: 'Viewer', description: 'Reads only', permissions: read },
} satisfies Record<string, { name: string; description: string; permissions: Permission[] }>;

export type BuiltinRole = keyof typeof builtinRoles;
export const builtinRoleKeys = Object.keys(builtinRoles) as BuiltinRole[];

export function isBuiltinRole(key: string): key is BuiltinRole {
  return Object.hasOwn(builtinRoles, key);
}

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(permissionCatalogue, value);
}

/** A role's permissions: built-in from the matrix, custom from its stored list (none if gone). */
export function permissionsOfRole(role: string, customPermissions: readonly string[] | null): readonly string[] {
  if (isBuiltinRole(role)) return builtinRoles[role].permissions;
  return customPermissions ?? [];
}
