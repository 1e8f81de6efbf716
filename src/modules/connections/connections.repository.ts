import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError } from '../../errors.ts';
import type { EntityManager } from '@mikro-orm/sql';
import { Connection } from './connection.entity.ts';

/** The scoped org's connections (the org filter and RLS keep other orgs' rows out). */
export class ConnectionsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  listPage(limit: number, after: string | undefined): Promise<Connection[]> {
    return this.#em.find(Connection, after ? { id: { $gt: after } } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
  }

  find(id: string): Promise<Connection | null> {
    return this.#em.findOne(Connection, { id });
  }

  /** Locked for the rest of the transaction: writers of one connection (nodes' refreshers, PATCH) take turns. */
  findForUpdate(id: string): Promise<Connection | null> {
    return this.#em.findOne(Connection, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  async create(input: Omit<Connection, 'createdAt' | 'updatedAt'>): Promise<Connection> {
    const connection = this.#em.create(Connection, input);
    try {
      await this.#em.flush();
    } catch (err) {
      // An id the caller chose (a setup wizard) that is taken, in this org or another.
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError('connection.exists', 'A connection with this id exists already.');
      throw err;
    }
    return connection;
  }

  async remove(connection: Connection): Promise<void> {
    this.#em.remove(connection);
    await this.#em.flush();
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }
}
