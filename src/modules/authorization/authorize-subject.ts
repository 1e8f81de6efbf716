import type { EntityManager } from '@mikro-orm/sql';
import { ApiKeysRepository } from '../api-keys/api-keys.repository.ts';
import { MembersRepository } from '../members/members.repository.ts';
import { isBuiltinRole, ownerOnlyPermissions } from '../roles/permissions.ts';
import { rolePermissions, type ProductPermissions } from '../roles/product-permissions.ts';
import { RolesRepository } from '../roles/roles.repository.ts';
import type { OrgScope } from '../scope.ts';
import { ServiceAccountsRepository } from '../service-accounts/service-accounts.repository.ts';
import { UsersRepository } from '../users/users.repository.ts';
import { WorkspacesRepository } from '../workspaces/workspaces.repository.ts';

export type SubjectType = 'user' | 'service_account' | 'api_key';

/** What a subject may do in the scoped org now, as the gateway would see its credential. */
export interface SubjectRights {
  role: string;
  permissions: ReadonlySet<string>;
  /** Whose team memberships count: the user, or an API key's creator; null for a service account. */
  userId: string | null;
  /** The workspaces it may reach; null: every workspace of the org. */
  workspaceIds: ReadonlySet<string> | null;
}

const ownerOnly = new Set<string>(ownerOnlyPermissions);

/**
 * The subject's rights, read in the scoped org's transaction (another org's rows do not exist
 * there); null when it cannot act in the org now: unknown, revoked, expired, no longer a member,
 * or a disabled account. The rules are the credential checks' (src/http/authenticate.ts).
 */
export function subjectRights(scope: OrgScope, product: ProductPermissions, subject: { type: SubjectType; id: string }): Promise<SubjectRights | null> {
  if (subject.type === 'user') return memberRights(scope, product, subject.id);
  if (subject.type === 'api_key') return apiKeyRights(scope, product, subject.id);
  return serviceAccountRights(scope, product, subject.id);
}

async function permissionsOf(em: EntityManager, role: string, product: ProductPermissions): Promise<readonly string[]> {
  const custom = isBuiltinRole(role) ? null : ((await new RolesRepository(em).findByKey(role))?.permissions ?? []);
  return rolePermissions(role, custom, product);
}

async function memberRights(scope: OrgScope, product: ProductPermissions, userId: string): Promise<SubjectRights | null> {
  const membership = await new MembersRepository(scope.em).findByUser(userId);
  if (!membership) return null;
  const user = await new UsersRepository(scope.em).findById(userId);
  if (!user || user.disabledAt) return null;
  const limits = await new WorkspacesRepository(scope.em).limitsOf(scope.orgId, userId);
  return {
    role: membership.role,
    permissions: new Set(await permissionsOf(scope.em, membership.role, product)),
    userId,
    workspaceIds: limits?.workspaceIds ? new Set(limits.workspaceIds) : null,
  };
}

/** A key acts only while its creator is a member, never beyond the creator's role or workspaces. */
async function apiKeyRights(scope: OrgScope, product: ProductPermissions, keyId: string): Promise<SubjectRights | null> {
  const key = await new ApiKeysRepository(scope.em).find(keyId);
  if (!key || key.revokedAt || (key.expiresAt && key.expiresAt.getTime() <= Date.now())) return null;
  const creator = await memberRights(scope, product, key.createdBy);
  if (!creator) return null;
  const own = await permissionsOf(scope.em, key.role, product);
  let workspaceIds = creator.workspaceIds;
  if (key.workspaceId) workspaceIds = new Set(!workspaceIds || workspaceIds.has(key.workspaceId) ? [key.workspaceId] : []);
  return { role: key.role, permissions: new Set(own.filter((p) => creator.permissions.has(p))), userId: key.createdBy, workspaceIds };
}

/** A machine never holds the owner-only permissions (delete, transfer, create orgs, billing). */
async function serviceAccountRights(scope: OrgScope, product: ProductPermissions, id: string): Promise<SubjectRights | null> {
  const account = await new ServiceAccountsRepository(scope.em).find(id);
  if (!account || account.revokedAt) return null;
  const own = await permissionsOf(scope.em, account.role, product);
  return {
    role: account.role,
    permissions: new Set(own.filter((p) => !ownerOnly.has(p))),
    userId: null,
    workspaceIds: account.workspaceId ? new Set([account.workspaceId]) : null,
  };
}
