import type { EntityManager } from '@mikro-orm/sql';
import { Domain } from './domain.entity.ts';

export class DomainsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  listPage(limit: number, after: string | undefined): Promise<Domain[]> {
    return this.#em.find(Domain, after ? { id: { $gt: after } } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
  }

  find(id: string): Promise<Domain | null> {
    return this.#em.findOne(Domain, { id });
  }

  findByName(domain: string): Promise<Domain | null> {
    return this.#em.findOne(Domain, { domain });
  }

  async create(input: { id: string; orgId: string; domain: string; verificationToken: string }): Promise<Domain> {
    const row = this.#em.create(Domain, input);
    await this.#em.flush();
    return row;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  async remove(row: Domain): Promise<void> {
    this.#em.remove(row);
    await this.#em.flush();
  }
}
