import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { apiKeyView } from '../api-keys/api-keys.service.ts';
import { ApiKeysRepository } from '../api-keys/api-keys.repository.ts';
import { recordAudit, recordAudits, type AuditInput } from '../audit/audit.recorder.ts';
import type { OrgScope } from '../scope.ts';
import { announceServiceAccountChange, serviceAccountView } from '../service-accounts/service-accounts.service.ts';
import { ServiceAccountsRepository } from '../service-accounts/service-accounts.repository.ts';
import type { Workspace } from './workspace.entity.ts';
import { assertWithinWorkspaceBounds, loadWorkspace } from './workspace-bounds.ts';
import { WorkspacesRepository } from './workspaces.repository.ts';

export function workspaceView(workspace: Workspace) {
  return { id: workspace.id, name: workspace.name, createdAt: workspace.createdAt, updatedAt: workspace.updatedAt };
}
export type WorkspaceView = ReturnType<typeof workspaceView>;

function workspaceState(workspace: Workspace) {
  return { id: workspace.id, name: workspace.name };
}

function workspaceExists(name: string): ConflictError {
  return new ConflictError('workspace.exists', `A workspace named "${name}" already exists.`);
}

export class WorkspacesService {
  readonly #scope: OrgScope;
  readonly #workspaces: WorkspacesRepository;

  constructor(scope: OrgScope) {
    this.#scope = scope;
    this.#workspaces = new WorkspacesRepository(scope.em);
  }

  async list(query: PageQuery): Promise<Page<WorkspaceView>> {
    this.#scope.authorize('org:read');
    const rows = await this.#workspaces.listPage(query.limit, query.cursor);
    return toPage(rows, query.limit, (w) => w.id, workspaceView);
  }

  async get(workspaceId: string): Promise<WorkspaceView> {
    this.#scope.authorize('org:read');
    return workspaceView(await loadWorkspace(this.#workspaces, workspaceId));
  }

  async create(input: { name: string }): Promise<WorkspaceView> {
    this.#scope.authorize('workspaces:manage');
    let workspace: Workspace;
    try {
      workspace = await this.#workspaces.create({ orgId: this.#scope.orgId, name: input.name });
    } catch (err) {
      // Names are unique per org case-insensitively (workspaces_name on lower(name)).
      if (err instanceof UniqueConstraintViolationException) throw workspaceExists(input.name);
      throw err;
    }
    await recordAudit(this.#scope, { type: 'workspace.created', target: { type: 'workspace', id: workspace.id }, after: workspaceState(workspace) });
    return workspaceView(workspace);
  }

  async rename(workspaceId: string, name: string): Promise<WorkspaceView> {
    this.#scope.authorize('workspaces:manage');
    const workspace = await loadWorkspace(this.#workspaces, workspaceId);
    await assertWithinWorkspaceBounds(this.#scope, workspace.id);
    const before = workspaceState(workspace);
    workspace.name = name;
    try {
      await this.#workspaces.save();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw workspaceExists(name);
      throw err;
    }
    await recordAudit(this.#scope, { type: 'workspace.updated', target: { type: 'workspace', id: workspace.id }, before, after: workspaceState(workspace) });
    return workspaceView(workspace);
  }

  /**
   * Deletes a workspace with the API keys and service accounts bound to it (FK cascade: they are
   * never widened to the whole org), each audited as revoked; members limited to it lose it.
   */
  async delete(workspaceId: string): Promise<void> {
    this.#scope.authorize('workspaces:manage');
    const workspace = await loadWorkspace(this.#workspaces, workspaceId);
    await assertWithinWorkspaceBounds(this.#scope, workspace.id);
    const keys = await new ApiKeysRepository(this.#scope.em).boundTo(workspace.id);
    const accounts = await new ServiceAccountsRepository(this.#scope.em).boundTo(workspace.id);
    const before = { ...workspaceState(workspace), apiKeys: keys.map((k) => k.id), serviceAccounts: accounts.map((a) => a.id) };
    await this.#workspaces.delete(workspace);
    const revokedAt = new Date();
    const reason = 'workspace_deleted';
    const events: AuditInput[] = [{ type: 'workspace.deleted', target: { type: 'workspace', id: workspace.id }, before }];
    for (const key of keys.filter((k) => !k.revokedAt)) {
      events.push({ type: 'api_key.revoked', target: { type: 'api_key', id: key.id }, after: { ...apiKeyView(key), revokedAt, reason } });
    }
    for (const account of accounts.filter((a) => !a.revokedAt)) {
      events.push({ type: 'service_account.revoked', target: { type: 'service_account', id: account.id }, after: { ...serviceAccountView(account), revokedAt, reason } });
    }
    await recordAudits(this.#scope, events);
    // The issuer's per-node client cache listens on its own channel, not the gateway's trigger.
    for (const account of accounts) await announceServiceAccountChange(this.#scope.em, { clientId: account.clientId });
  }
}
