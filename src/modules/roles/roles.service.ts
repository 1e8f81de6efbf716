import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type FieldError } from '../../errors.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import type { OrgScope } from '../scope.ts';
import {
  allPermissions, builtinRoleKeys, builtinRoles, grantablePermissions, isBuiltinRole, isPermission, ownerOnlyPermissions,
  permissionCatalogue, type BuiltinRole, type Permission,
} from './permissions.ts';
import { assertWithinCaller } from './role-catalog.ts';
import type { Role } from './role.entity.ts';
import { RolesRepository } from './roles.repository.ts';
import { announceServiceAccountChange } from '../service-accounts/service-accounts.service.ts';

export interface RoleView {
  key: string;
  name: string;
  description: string | null;
  permissions: string[];
  builtin: boolean;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** The catalogue as the API shows it; owner-only permissions can never go into a custom role. */
export function permissionList() {
  return allPermissions.map((key) => ({ key, description: permissionCatalogue[key], grantable: !ownerOnlyPermissions.includes(key) }));
}

function builtinView(key: BuiltinRole): RoleView {
  const role = builtinRoles[key];
  return { key, name: role.name, description: role.description, permissions: [...role.permissions], builtin: true, createdAt: null, updatedAt: null };
}

function customView(role: Role): RoleView {
  return {
    key: role.key,
    name: role.name,
    description: role.description ?? null,
    permissions: [...role.permissions],
    builtin: false,
    createdAt: role.createdAt,
    updatedAt: role.updatedAt,
  };
}

function roleState(role: Role) {
  return { key: role.key, name: role.name, description: role.description ?? null, permissions: [...role.permissions] };
}

/** Every requested permission must be in the catalogue and grantable; the result is deduplicated in catalogue order. */
function checkPermissions(requested: readonly string[]): Permission[] {
  const errors: FieldError[] = [];
  requested.forEach((p, i) => {
    if (!isPermission(p)) errors.push({ field: `body.permissions.${i}`, message: `unknown permission "${p}"` });
    else if (ownerOnlyPermissions.includes(p)) {
      errors.push({ field: `body.permissions.${i}`, message: `"${p}" stays with the owner and cannot be part of a custom role` });
    }
  });
  if (errors.length) throw new ValidationError(errors);
  return grantablePermissions.filter((p) => requested.includes(p));
}

function roleExists(key: string): ConflictError {
  return new ConflictError('role.exists', `A role with the key "${key}" already exists.`);
}

function builtinRefused(): ForbiddenError {
  return new ForbiddenError('role.builtin', 'Built-in roles cannot be changed or deleted.');
}

export interface NewRole {
  key: string;
  name: string;
  description?: string;
  permissions: string[];
}

export interface RolePatch {
  name?: string;
  description?: string | null;
  permissions?: string[];
}

export class RolesService {
  readonly #scope: OrgScope;
  readonly #roles: RolesRepository;

  constructor(scope: OrgScope) {
    this.#scope = scope;
    this.#roles = new RolesRepository(scope.em);
  }

  /** Built-ins in matrix order, then the org's custom roles by key. */
  async list(): Promise<RoleView[]> {
    this.#scope.authorize('roles:read');
    const custom = await this.#roles.list();
    return [...builtinRoleKeys.map(builtinView), ...custom.map(customView)];
  }

  async create(input: NewRole): Promise<RoleView> {
    this.#scope.authorize('roles:manage');
    const permissions = checkPermissions(input.permissions);
    if (isBuiltinRole(input.key)) throw roleExists(input.key);
    assertWithinCaller(this.#scope, permissions);
    if (await this.#roles.findByKey(input.key)) throw roleExists(input.key);
    let role: Role;
    try {
      role = await this.#roles.create({
        orgId: this.#scope.orgId, key: input.key, name: input.name, description: input.description ?? null, permissions,
      });
    } catch (err) {
      // Two creates of one key at once: the (org_id, key) unique constraint decides.
      if (err instanceof UniqueConstraintViolationException) throw roleExists(input.key);
      throw err;
    }
    await recordAudit(this.#scope, { type: 'role.created', target: { type: 'role', id: role.key }, after: roleState(role) });
    return customView(role);
  }

  async update(key: string, patch: RolePatch): Promise<RoleView> {
    this.#scope.authorize('roles:manage');
    if (isBuiltinRole(key)) throw builtinRefused();
    const permissions = patch.permissions ? checkPermissions(patch.permissions) : undefined;
    const role = await this.#load(key);
    // Neither reshape a role above you nor raise one above you.
    assertWithinCaller(this.#scope, role.permissions);
    if (permissions) assertWithinCaller(this.#scope, permissions);
    const before = roleState(role);
    if (patch.name !== undefined) role.name = patch.name;
    if (patch.description !== undefined) role.description = patch.description;
    if (permissions) role.permissions = permissions;
    await this.#roles.save();
    // service-account tokens carry the role's permissions from a per-node cache
    await announceServiceAccountChange(this.#scope.em, { orgId: this.#scope.orgId });
    await recordAudit(this.#scope, { type: 'role.updated', target: { type: 'role', id: role.key }, before, after: roleState(role) });
    return customView(role);
  }

  /** Deletes a custom role nobody acts with any more; a role in use must be vacated first. */
  async delete(key: string): Promise<void> {
    this.#scope.authorize('roles:manage');
    if (isBuiltinRole(key)) throw builtinRefused();
    const role = await this.#load(key);
    assertWithinCaller(this.#scope, role.permissions);
    const uses = await this.#roles.usesOf(key);
    if (uses.members || uses.apiKeys || uses.invitations || uses.provisioning) {
      throw new ConflictError(
        'role.in_use',
        `The role is still used by ${uses.members} member(s), ${uses.apiKeys} API key(s), ${uses.invitations} pending invitation(s) and ${uses.provisioning} SSO connection or directory setting(s); move them to another role first.`,
      );
    }
    const before = roleState(role);
    await this.#roles.delete(role);
    await announceServiceAccountChange(this.#scope.em, { orgId: this.#scope.orgId });
    await recordAudit(this.#scope, { type: 'role.deleted', target: { type: 'role', id: key }, before });
  }

  async #load(key: string): Promise<Role> {
    const role = await this.#roles.lockByKey(key);
    if (!role) throw new NotFoundError('role.not_found', 'No such role in this organization.');
    return role;
  }

}
