import type { EntityManager } from '@mikro-orm/sql';
import { ServiceAccount } from './service-account.entity.ts';

export class ServiceAccountsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  listPage(limit: number, after: string | undefined): Promise<ServiceAccount[]> {
    return this.#em.find(ServiceAccount, after ? { id: { $gt: after } } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
  }

  find(id: string): Promise<ServiceAccount | null> {
    return this.#em.findOne(ServiceAccount, { id });
  }

  boundTo(workspaceId: string): Promise<ServiceAccount[]> {
    return this.#em.find(ServiceAccount, { workspaceId }, { orderBy: { id: 'asc' } });
  }

  async create(input: { id: string; orgId: string; name: string; role: string; clientId: string; secret: string; createdBy: string | null; workspaceId: string | null }): Promise<ServiceAccount> {
    const account = this.#em.create(ServiceAccount, input);
    await this.#em.flush();
    return account;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }
}
