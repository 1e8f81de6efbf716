import type { EntityManager } from '@mikro-orm/sql';
import { Organization } from './organization.entity.ts';

export class OrgsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** The scoped org itself (the orgSelf filter and RLS admit no other). */
  find(orgId: string): Promise<Organization | null> {
    return this.#em.findOne(Organization, { id: orgId });
  }

  async create(input: { id: string; name: string; slug: string; kind: 'team' | 'personal' }): Promise<Organization> {
    const org = this.#em.create(Organization, input);
    await this.#em.flush();
    return org;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  async delete(org: Organization): Promise<void> {
    this.#em.remove(org);
    await this.#em.flush();
  }
}
