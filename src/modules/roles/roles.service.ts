import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type FieldError } from '../../errors.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import type { OrgScope } from '../scope.ts';
import {
  allPermissions, builtinRoleKeys, builtinRoles, grantablePermissions, isBuiltinRole, isPermission, ownerOnlyPermissions,
  permissionCatalogue, type BuiltinRole, type Permission,
} from './permissions.ts';
import { noProductPermissions, rolePermissions, type ProductPermissions } from './product-permissions.ts';
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

/**
 * The catalogue as the API shows it: Gatehouse's own (owner-only ones can never go into a custom
 * role), then the product's from the route policy in force, marked as such.
 */
export function permissionList(product: ProductPermissions = noProductPermissions) {
  const own = allPermissions.map((key) => ({ key, description: permissionCatalogue[key], grantable: !ownerOnlyPermissions.includes(key), source: 'gatehouse' as const }));
  const products = [...product.declared].map((key) => {
    const holders = builtinRoleKeys.filter((role) => product.ofBuiltinRole(role).includes(key));
    const description = `The product's permission (route policy); built-in roles holding it: ${holders.join(', ') || 'none'}`;
    return { key, description, grantable: true, source: 'product' as const };
  });
  return [...own, ...products];
}

function builtinView(key: BuiltinRole, product: ProductPermissions): RoleView {
  const role = builtinRoles[key];
  return {
    key, name: role.name, description: role.description, permissions: [...rolePermissions(key, null, product)], builtin: true, createdAt: null, updatedAt: null,
  };
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

/**
 * Every requested permission must be a grantable one of Gatehouse's or one the route policy in
 * force declares; the result is deduplicated, Gatehouse's in catalogue order, then the product's
 * in policy order.
 */
function checkPermissions(requested: readonly string[], product: ProductPermissions): string[] {
  const errors: FieldError[] = [];
  requested.forEach((p, i) => {
    if (isPermission(p)) {
      if (ownerOnlyPermissions.includes(p)) {
        errors.push({ field: `body.permissions.${i}`, message: `"${p}" stays with the owner and cannot be part of a custom role` });
      }
    } else if (!product.declared.has(p)) errors.push({ field: `body.permissions.${i}`, message: `unknown permission "${p}"` });
  });
  if (errors.length) throw new ValidationError(errors);
  const own: Permission[] = grantablePermissions.filter((p) => requested.includes(p));
  return [...own, ...[...product.declared].filter((p) => requested.includes(p))];
}

/**
 * The permissions of a stored role that mean something now. A product permission the policy no
 * longer declares guards no route, so it neither blocks an edit ("above the caller") nor counts.
 */
function livePermissions(permissions: readonly string[], product: ProductPermissions): string[] {
  return permissions.filter((p) => isPermission(p) || product.declared.has(p));
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
  readonly #product: ProductPermissions;
  readonly #plans: PlanDeps;

  constructor(scope: OrgScope, product: ProductPermissions, plans: PlanDeps) {
    this.#scope = scope;
    this.#roles = new RolesRepository(scope.em);
    this.#product = product;
    this.#plans = plans;
  }

  /** Built-ins in matrix order, then the org's custom roles by key. */
  async list(): Promise<RoleView[]> {
    this.#scope.authorize('roles:read');
    const custom = await this.#roles.list();
    return [...builtinRoleKeys.map((key) => builtinView(key, this.#product)), ...custom.map(customView)];
  }

  async create(input: NewRole): Promise<RoleView> {
    this.#scope.authorize('roles:manage');
    await new PlanGate(this.#scope, this.#plans).requireFeature('custom_roles');
    const permissions = checkPermissions(input.permissions, this.#product);
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
    await new PlanGate(this.#scope, this.#plans).requireFeature('custom_roles');
    if (isBuiltinRole(key)) throw builtinRefused();
    const permissions = patch.permissions ? checkPermissions(patch.permissions, this.#product) : undefined;
    const role = await this.#load(key);
    // Neither reshape a role above you nor raise one above you.
    assertWithinCaller(this.#scope, livePermissions(role.permissions, this.#product));
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
    assertWithinCaller(this.#scope, livePermissions(role.permissions, this.#product));
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
