import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { Role } from './role.entity.ts';

export class RolesRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  list(): Promise<Role[]> {
    return this.#em.find(Role, {}, { orderBy: { key: 'asc' } });
  }

  findByKey(key: string): Promise<Role | null> {
    return this.#em.findOne(Role, { key });
  }

  async create(input: { orgId: string; key: string; name: string; description: string | null; permissions: string[] }): Promise<Role> {
    const role = this.#em.create(Role, { id: uuidv7(), ...input });
    await this.#em.flush();
    return role;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  async delete(role: Role): Promise<void> {
    this.#em.remove(role);
    await this.#em.flush();
  }
}
