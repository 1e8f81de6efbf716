import { ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import { ApiKeysRepository } from '../api-keys/api-keys.repository.ts';
import type { OrgScope } from '../scope.ts';
import { ServiceAccountsRepository } from '../service-accounts/service-accounts.repository.ts';
import type { Workspace } from './workspace.entity.ts';
import { WorkspacesRepository } from './workspaces.repository.ts';

/**
 * The workspaces an actor may reach; null = every workspace of the org. Two things narrow it:
 * the user's member limits, and the calling credential's own binding (a key or service account
 * bound to a workspace). Nobody hands out reach they lack, so a bounded actor only binds new
 * credentials, or limits members, within these.
 */
export async function workspaceBounds(scope: OrgScope, userId: string | null = scope.userId): Promise<ReadonlySet<string> | null> {
  const limits = userId ? await new WorkspacesRepository(scope.em).limitsOf(scope.orgId, userId) : null;
  const binding = await callingCredentialBinding(scope);
  if (!limits?.workspaceIds) return binding ? new Set([binding]) : null;
  return new Set(binding ? limits.workspaceIds.filter((id) => id === binding) : limits.workspaceIds);
}

async function callingCredentialBinding(scope: OrgScope): Promise<string | null> {
  const credential = scope.principal?.credential;
  if (credential?.type === 'api_key') return (await new ApiKeysRepository(scope.em).find(credential.id))?.workspaceId ?? null;
  if (credential?.type === 'service_account') return (await new ServiceAccountsRepository(scope.em).find(credential.id))?.workspaceId ?? null;
  return null;
}

/**
 * The workspace a new credential is bound to: it must be one of the org's (400 otherwise), and
 * an actor bounded to some workspaces must bind to one of them (400 when it is missing or another).
 */
export async function bindableWorkspace(scope: OrgScope, workspaceId: string | undefined, userId: string | null = scope.userId): Promise<string | null> {
  const field = 'body.workspaceId';
  // Share-locked: a concurrent deletion of the workspace waits for this transaction to bind to it.
  if (workspaceId && !(await new WorkspacesRepository(scope.em).findShared(workspaceId))) {
    throw new ValidationError([{ field, message: 'no such workspace in this organization' }]);
  }
  const bounds = await workspaceBounds(scope, userId);
  if (bounds && !workspaceId) {
    throw new ValidationError([{ field, message: 'required: you are limited to some workspaces, so what you create must be bound to one of them' }]);
  }
  if (bounds && workspaceId && !bounds.has(workspaceId)) {
    throw new ValidationError([{ field, message: 'must be one of the workspaces you are limited to' }]);
  }
  return workspaceId ?? null;
}

/**
 * An actor bounded to some workspaces touches nothing beyond them: rotating a key bound to another
 * workspace (or to none, the whole org) would hand them its reach; `null` stands for the whole org.
 */
export async function assertWithinWorkspaceBounds(scope: OrgScope, workspaceId: string | null): Promise<void> {
  const bounds = await workspaceBounds(scope);
  if (bounds && (workspaceId === null || !bounds.has(workspaceId))) {
    throw new ForbiddenError('workspace.above_caller', 'You are limited to some workspaces and this reaches beyond them.');
  }
}

/** A workspace of the scoped org, or workspace.not_found (another org's is not found, by filter and RLS). */
export async function loadWorkspace(workspaces: WorkspacesRepository, workspaceId: string): Promise<Workspace> {
  const workspace = await workspaces.find(workspaceId);
  if (!workspace) throw new NotFoundError('workspace.not_found', 'No such workspace in this organization.');
  return workspace;
}
