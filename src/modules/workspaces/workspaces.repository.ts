import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { Workspace } from './workspace.entity.ts';

/** A member's reach: every workspace (null), or exactly the listed ones (possibly none). */
export interface WorkspaceLimits {
  limited: boolean;
  workspaceIds: string[] | null;
}

export class WorkspacesRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** One page of workspaces in creation order (ids are time-ordered v7). */
  listPage(limit: number, after: string | undefined): Promise<Workspace[]> {
    return this.#em.find(Workspace, after ? { id: { $gt: after } } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
  }

  find(id: string): Promise<Workspace | null> {
    return this.#em.findOne(Workspace, { id });
  }

  /** A workspace share-locked until the transaction ends: it cannot be deleted while something binds to it. */
  findShared(id: string): Promise<Workspace | null> {
    return this.#em.findOne(Workspace, { id }, { lockMode: LockMode.PESSIMISTIC_READ });
  }

  /** Which of `ids` are workspaces of the scoped org (share-locked, as findShared). */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.#em.find(Workspace, { id: { $in: [...ids] } }, { lockMode: LockMode.PESSIMISTIC_READ });
    return new Set(rows.map((w) => w.id));
  }

  async create(input: { orgId: string; name: string }): Promise<Workspace> {
    const workspace = this.#em.create(Workspace, { id: uuidv7(), ...input });
    await this.#em.flush();
    return workspace;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  /** Deletes the workspace; its bound credentials and member rows go with it (ON DELETE CASCADE). */
  async delete(workspace: Workspace): Promise<void> {
    this.#em.remove(workspace);
    await this.#em.flush();
  }

  /** A member's limits; null when they are not a member of the scoped org. */
  async limitsOf(orgId: string, userId: string): Promise<WorkspaceLimits | null> {
    const [membership] = await this.#em.execute<{ workspaces_limited: boolean }[]>(
      'SELECT workspaces_limited FROM memberships WHERE org_id = ? AND user_id = ?', [orgId, userId]);
    if (!membership) return null;
    if (!membership.workspaces_limited) return { limited: false, workspaceIds: null };
    const rows = await this.#em.execute<{ workspace_id: string }[]>(
      'SELECT workspace_id FROM workspace_members WHERE org_id = ? AND user_id = ? ORDER BY workspace_id', [orgId, userId]);
    return { limited: true, workspaceIds: rows.map((r) => r.workspace_id) };
  }

  /** Replaces a member's limits: null = every workspace (no rows), a list = exactly those. */
  async setLimits(orgId: string, userId: string, workspaceIds: readonly string[] | null): Promise<void> {
    await this.#em.execute('UPDATE memberships SET workspaces_limited = ? WHERE org_id = ? AND user_id = ?', [workspaceIds !== null, orgId, userId]);
    await this.#em.execute('DELETE FROM workspace_members WHERE org_id = ? AND user_id = ?', [orgId, userId]);
    if (workspaceIds?.length) {
      await this.#em.execute(
        'INSERT INTO workspace_members (org_id, workspace_id, user_id) SELECT ?, w, ? FROM unnest(?::uuid[]) AS w',
        [orgId, userId, `{${workspaceIds.join(',')}}`]);
    }
  }
}
