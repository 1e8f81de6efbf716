import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import { SetupLink } from './setup-link.entity.ts';

export interface NewSetupLink {
  id: string;
  orgId: string;
  scope: string;
  secretHash: string;
  createdBy: string;
  note: string | null;
  expiresAt: Date;
}

export class SetupLinksRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  listPage(limit: number, after: string | undefined): Promise<SetupLink[]> {
    return this.#em.find(SetupLink, after ? { id: { $gt: after } } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
  }

  find(id: string): Promise<SetupLink | null> {
    return this.#em.findOne(SetupLink, { id });
  }

  /** A link locked until the transaction ends, so two revocations take turns (one audit event). */
  lock(id: string): Promise<SetupLink | null> {
    return this.#em.findOne(SetupLink, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  async create(input: NewSetupLink): Promise<SetupLink> {
    const link = this.#em.create(SetupLink, input);
    await this.#em.flush();
    return link;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }
}
