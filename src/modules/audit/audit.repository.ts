import { LockMode, type FilterQuery, type RequiredEntityData } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import { AuditChainHead, AuditEvent } from './audit-event.entity.ts';

/** What the trail can be narrowed to; every field is optional and they combine with AND. */
export interface AuditFilter {
  /** An exact type (`member.role_changed`) or a prefix ending in `.*` (`member.*`). */
  type?: string;
  actorId?: string;
  targetId?: string;
  /** occurredAt >= since */
  since?: Date;
  /** occurredAt < until */
  until?: Date;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

function whereOf(filter: AuditFilter) {
  const { type, actorId, targetId, since, until } = filter;
  return {
    ...(type ? { type: type.endsWith('.*') ? { $like: `${escapeLike(type.slice(0, -1))}%` } : type } : {}),
    ...(actorId ? { actorId } : {}),
    ...(targetId ? { targetId } : {}),
    ...(since || until ? { occurredAt: { ...(since ? { $gte: since } : {}), ...(until ? { $lt: until } : {}) } } : {}),
  };
}

export class AuditRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /**
   * The org's chain head, locked until the transaction ends (which orders concurrent writers of
   * one org), or a new genesis head for an org's first event.
   */
  async lockHead(orgId: string, genesisHash: string): Promise<AuditChainHead> {
    const head = await this.#em.findOne(AuditChainHead, { orgId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    return head ?? this.#em.create(AuditChainHead, { orgId, seq: 0, hash: genesisHash });
  }

  /** Appends an event and moves the head to it when the transaction's changes are next written (`save`). */
  stage(head: AuditChainHead, event: RequiredEntityData<AuditEvent> & { seq: number; hash: string }): void {
    this.#em.create(AuditEvent, event);
    head.seq = event.seq;
    head.hash = event.hash;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  /** Events in chain order after `afterSeq`, for verification. */
  chainPage(afterSeq: number, limit: number): Promise<AuditEvent[]> {
    // Not kept in the identity map: a verification may walk the whole trail in one EntityManager.
    return this.#em.find(AuditEvent, { seq: { $gt: afterSeq } }, { orderBy: { seq: 'asc' }, limit, disableIdentityMap: true });
  }

  /** One page of matching events, newest first, older than `beforeSeq`; limit + 1 rows. */
  listPage(filter: AuditFilter, limit: number, beforeSeq?: number): Promise<AuditEvent[]> {
    const where = { ...whereOf(filter), ...(beforeSeq ? { seq: { $lt: beforeSeq } } : {}) } as FilterQuery<AuditEvent>;
    return this.#em.find(AuditEvent, where, { orderBy: { seq: 'desc' }, limit: limit + 1 });
  }

  /** Matching events oldest first in (afterSeq, upToSeq], for export. */
  exportPage(filter: AuditFilter, afterSeq: number, upToSeq: number, limit: number): Promise<AuditEvent[]> {
    const where = { ...whereOf(filter), seq: { $gt: afterSeq, $lte: upToSeq } } as FilterQuery<AuditEvent>;
    return this.#em.find(AuditEvent, where, { orderBy: { seq: 'asc' }, limit, disableIdentityMap: true });
  }

  head(): Promise<AuditChainHead | null> {
    return this.#em.findOne(AuditChainHead, {});
  }
}
