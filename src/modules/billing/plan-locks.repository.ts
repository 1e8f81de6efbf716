import type { EntityManager } from '@mikro-orm/sql';

/**
 * Transaction-scoped advisory locks that make a plan limit's check-then-write atomic: two
 * invitations (or SCIM creates, or API keys) racing for the last seat take turns, and the second
 * counts the first. Held until the request's transaction ends; nothing else waits on them.
 */
export class PlanLocksRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async lock(limit: 'seats' | 'api_keys', orgId: string): Promise<void> {
    await this.#em.execute('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`gatehouse plan ${limit} ${orgId}`]);
  }
}
