import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import { ApiKey } from './api-key.entity.ts';

export class ApiKeysRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  listPage(limit: number, after: string | undefined, createdBy?: string): Promise<ApiKey[]> {
    return this.#em.find(
      ApiKey,
      { ...(after ? { id: { $gt: after } } : {}), ...(createdBy ? { createdBy } : {}) },
      { orderBy: { id: 'asc' }, limit: limit + 1 },
    );
  }

  find(id: string): Promise<ApiKey | null> {
    return this.#em.findOne(ApiKey, { id });
  }

  /** A key locked until the transaction ends, so two rotations of it take turns. */
  lock(id: string): Promise<ApiKey | null> {
    return this.#em.findOne(ApiKey, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  boundTo(workspaceId: string): Promise<ApiKey[]> {
    return this.#em.find(ApiKey, { workspaceId }, { orderBy: { id: 'asc' } });
  }

  /** Unrevoked, unexpired keys of the org (what the plan's apiKeyLimit counts). */
  countActive(): Promise<number> {
    return this.#em.count(ApiKey, { revokedAt: null, $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }] });
  }

  activeOf(userId: string): Promise<ApiKey[]> {
    return this.#em.find(ApiKey, { createdBy: userId, revokedAt: null });
  }

  async create(input: { id: string; orgId: string; name: string; role: string; secretHash: string; createdBy: string; expiresAt: Date | null; workspaceId: string | null }): Promise<ApiKey> {
    const key = this.#em.create(ApiKey, input);
    await this.#em.flush();
    return key;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }
}
