import type { EntityManager, MikroORM } from '@mikro-orm/sql';
import type { ListenTarget } from './notifications.ts';

export const APP_ROLE = 'gatehouse_app';
export const PLATFORM_ROLE = 'gatehouse_platform';

// The role is set as the transaction-local setting `role` (what SET LOCAL ROLE does) together
// with app.org_id, so scoping a transaction costs one statement, not two.

/**
 * The only ways to reach the database. Each opens one transaction with its scope applied both
 * in the ORM (filter parameters) and in PostgreSQL (role and transaction-local app.org_id), so
 * the two locks agree. Nothing here holds "the current org": the org travels as an argument.
 */
export class Database {
  readonly orm: MikroORM;
  readonly close: () => Promise<void>;
  /** Where this node LISTENs for other nodes' changes (src/db/notifications.ts). */
  readonly listenTarget: ListenTarget;

  constructor(orm: MikroORM, close: () => Promise<void>, listenTarget: ListenTarget) {
    this.orm = orm;
    this.close = close;
    this.listenTarget = listenTarget;
  }

  /** One transaction in which only `orgId`'s rows exist. */
  inOrg<T>(orgId: string, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const em = this.orm.em.fork({ clear: true });
    em.setFilterParams('org', { orgId });
    em.setFilterParams('orgSelf', { orgId });
    em.setSessionContext({ variables: { role: APP_ROLE, 'app.org_id': orgId } });
    return em.transactional((tx) => fn(tx));
  }

  /**
   * One transaction with no org at all: global rows (users) only. Org tables show no rows and
   * the ORM refuses org entities, since the org filter has no parameter.
   */
  withoutOrg<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const em = this.orm.em.fork({ clear: true });
    em.setSessionContext({ variables: { role: APP_ROLE } });
    return em.transactional((tx) => fn(tx));
  }

  /**
   * One transaction for the named cross-org look-ups of the platform repository only. The
   * platform role may read a few tables across orgs and nothing more (see the migration).
   */
  asPlatform<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    const em = this.orm.em.fork({ clear: true });
    em.setSessionContext({ variables: { role: PLATFORM_ROLE } });
    return em.transactional((tx) => fn(tx));
  }

  /** Liveness of the database for /readyz: an answer within `timeoutMs`, or it throws. */
  async ping(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.orm.em.fork().getConnection().execute('SELECT 1'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
