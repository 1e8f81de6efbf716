import { LockMode } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';
import type { OrgScope } from '../scope.ts';
import { AuditChainHead, AuditEvent } from './audit-event.entity.ts';
import { chainHash, GENESIS_HASH, redact } from './audit-chain.ts';

export interface AuditInput {
  type: string;
  target?: { type: string; id: string };
  before?: object | null;
  after?: object | null;
}

/**
 * Appends one event to the org's chain inside the caller's transaction, so the event exists
 * exactly when the change it describes does. The chain head row is locked for the rest of the
 * transaction, which orders concurrent writers of one org.
 */
export async function recordAudit(scope: OrgScope, input: AuditInput): Promise<void> {
  const em = scope.em;
  let head = await em.findOne(AuditChainHead, { orgId: scope.orgId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!head) {
    head = em.create(AuditChainHead, { orgId: scope.orgId, seq: 0, hash: GENESIS_HASH });
  }
  const content = {
    id: uuidv7(),
    orgId: scope.orgId,
    seq: head.seq + 1,
    type: input.type,
    actorType: scope.actor.type,
    actorId: scope.actor.id,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    ip: scope.meta.ip,
    userAgent: scope.meta.userAgent,
    requestId: scope.meta.requestId,
    before: (input.before ? redact(input.before) : null) as Record<string, unknown> | null,
    after: (input.after ? redact(input.after) : null) as Record<string, unknown> | null,
    occurredAt: new Date(),
  };
  const hash = chainHash(head.hash, content);
  em.create(AuditEvent, { ...content, prevHash: head.hash, hash });
  head.seq = content.seq;
  head.hash = hash;
  await em.flush();
}
