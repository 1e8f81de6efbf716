import { v7 as uuidv7 } from 'uuid';
import { AppError, NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import type { ApiKeyTokens } from '../api-keys/api-key-token.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { syncDirectoryMembers } from '../directory-sync/membership-sync.ts';
import { grantableRole } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
import { DirectoriesRepository } from './directories.repository.ts';
import type { Directory } from './directory.entity.ts';
import {
  directoryAuditView, directoryGroupView, directoryUserView, directoryView, type DirectoryView,
} from './directory-view.ts';

export interface DirectoryDeps {
  publicUrl: string;
  apiKeyTokens: ApiKeyTokens;
  plans: PlanDeps;
}

/**
 * A directory's token adds, re-roles and removes members through the IdP, so whoever may set one
 * up or steer it must hold those member powers too, not `directories:manage` alone.
 */
export function authorizeDirectoryChange(scope: OrgScope): void {
  // A SCIM setup link holds directories:manage only; the member powers a directory exercises are
  // its creator's, checked on every use of the link (setup-link-credential.ts), and the roles it
  // may hand out stop at member (its grant ceiling).
  if (scope.principal?.credential.type === 'setup_link') return scope.authorize('directories:manage');
  for (const permission of ['directories:manage', 'members:invite', 'members:update', 'members:remove'] as const) scope.authorize(permission);
}

/**
 * A role a directory hands out (its default, or a group rule's): a role of the org within the
 * caller's own permissions, never owner (an IdP must not be able to mint owners, and the org
 * has exactly one), and one the org's plan offers (402 plan.feature_unavailable, as for an
 * invitation).
 */
export async function directoryRole(scope: OrgScope, key: string, field: string, gate: PlanGate): Promise<string> {
  if (key === 'owner') throw new AppError('directory.owner_role', 422, 'A directory cannot make anyone owner; choose another role.');
  const role = (await grantableRole(scope, key, field)).key;
  await gate.requireRole(role);
  return role;
}

/** Loads a directory of the scoped org, or 404 (another org's id looks like no directory at all). */
export async function loadDirectory(repo: DirectoriesRepository, id: string): Promise<Directory> {
  const row = await repo.find(id);
  if (!row) throw new NotFoundError('directory.not_found', 'No such directory.');
  return row;
}

/** An org's SCIM directories. Every method needs directories:manage; a token is shown once. */
export class DirectoriesService {
  readonly #scope: OrgScope;
  readonly #repo: DirectoriesRepository;
  readonly #deps: DirectoryDeps;

  constructor(scope: OrgScope, deps: DirectoryDeps) {
    this.#scope = scope;
    this.#repo = new DirectoriesRepository(scope.em);
    this.#deps = deps;
  }

  async create(input: { name: string; defaultRole: string }): Promise<DirectoryView & { token: string; tokenCreatedAt: Date }> {
    authorizeDirectoryChange(this.#scope);
    const gate = new PlanGate(this.#scope, this.#deps.plans);
    await gate.requireFeature('scim');
    const defaultRole = await directoryRole(this.#scope, input.defaultRole, 'body.defaultRole', gate);
    const { token, secretHash } = this.#deps.apiKeyTokens.issueDirectoryToken();
    const tokenCreatedAt = new Date();
    const row = await this.#repo.create({ id: uuidv7(), orgId: this.#scope.orgId, name: input.name, defaultRole, tokenHash: secretHash, tokenCreatedAt });
    await this.#audit('directory.created', row, null, directoryAuditView(row));
    return { ...directoryView(row, this.#deps.publicUrl), token, tokenCreatedAt };
  }

  async list(query: PageQuery): Promise<Page<DirectoryView>> {
    this.#scope.authorize('directories:manage');
    const rows = await this.#repo.listPage(query.limit, query.cursor);
    return toPage(rows, query.limit, (d) => d.id, (d) => directoryView(d, this.#deps.publicUrl));
  }

  async get(id: string): Promise<DirectoryView> {
    this.#scope.authorize('directories:manage');
    return directoryView(await loadDirectory(this.#repo, id), this.#deps.publicUrl);
  }

  /** A new default role re-levels every member the directory manages, in this transaction. */
  async update(id: string, patch: { name?: string; defaultRole?: string }): Promise<DirectoryView> {
    authorizeDirectoryChange(this.#scope);
    const row = await loadDirectory(this.#repo, id);
    const gate = new PlanGate(this.#scope, this.#deps.plans);
    const defaultRole = patch.defaultRole === undefined ? row.defaultRole : await directoryRole(this.#scope, patch.defaultRole, 'body.defaultRole', gate);
    const before = directoryAuditView(row);
    const roleChanged = defaultRole !== row.defaultRole;
    row.name = patch.name ?? row.name;
    row.defaultRole = defaultRole;
    if (row.name === before.name && !roleChanged) return directoryView(row, this.#deps.publicUrl);
    await this.#repo.save();
    await this.#audit('directory.updated', row, before, directoryAuditView(row));
    if (roleChanged) await syncDirectoryMembers(this.#scope, row.id, 'all', gate);
    return directoryView(row, this.#deps.publicUrl);
  }

  /** A new token; the previous one stops working when this transaction commits. */
  async rotateToken(id: string): Promise<{ token: string; tokenCreatedAt: Date }> {
    authorizeDirectoryChange(this.#scope);
    const row = await loadDirectory(this.#repo, id);
    const { token, secretHash } = this.#deps.apiKeyTokens.issueDirectoryToken();
    row.tokenHash = secretHash;
    row.tokenCreatedAt = new Date();
    await this.#repo.save();
    await this.#audit('directory.token_rotated', row);
    return { token, tokenCreatedAt: row.tokenCreatedAt };
  }

  /** No token at all: the IdP is refused (401) until a new one is issued. */
  async revokeToken(id: string): Promise<void> {
    this.#scope.authorize('directories:manage');
    const row = await loadDirectory(this.#repo, id);
    if (row.tokenHash == null) return;
    row.tokenHash = null;
    row.tokenCreatedAt = null;
    await this.#repo.save();
    await this.#audit('directory.token_revoked', row);
  }

  async remove(id: string): Promise<void> {
    this.#scope.authorize('directories:manage');
    const row = await loadDirectory(this.#repo, id);
    const before = directoryAuditView(row);
    await this.#repo.remove(row);
    await this.#audit('directory.deleted', { id }, before, null);
  }

  async users(id: string, query: PageQuery) {
    this.#scope.authorize('directories:manage');
    await loadDirectory(this.#repo, id);
    const rows = await this.#repo.usersPage(id, query.limit, query.cursor);
    return toPage(rows, query.limit, (r) => r.id, directoryUserView);
  }

  async groups(id: string, query: PageQuery) {
    this.#scope.authorize('directories:manage');
    await loadDirectory(this.#repo, id);
    const rows = await this.#repo.groupsPage(id, query.limit, query.cursor);
    return toPage(rows, query.limit, (r) => r.id, directoryGroupView);
  }

  #audit(type: string, row: { id: string }, before: object | null = null, after: object | null = null): Promise<void> {
    return recordAudit(this.#scope, { type, target: { type: 'directory', id: row.id }, before, after });
  }
}
