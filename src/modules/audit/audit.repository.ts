import type { EntityManager } from '@mikro-orm/sql';
import { AuditChainHead, AuditEvent } from './audit-event.entity.ts';

export class AuditRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** Events in chain order after `afterSeq`, for verification and export. */
  chainPage(afterSeq: number, limit: number): Promise<AuditEvent[]> {
    return this.#em.find(AuditEvent, { seq: { $gt: afterSeq } }, { orderBy: { seq: 'asc' }, limit });
  }

  head(): Promise<AuditChainHead | null> {
    return this.#em.findOne(AuditChainHead, {});
  }
}
