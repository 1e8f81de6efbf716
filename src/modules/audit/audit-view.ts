import type { AuditEvent } from './audit-event.entity.ts';

/** An event as the API and exports show it. */
export function auditEventView(e: AuditEvent) {
  return {
    id: e.id,
    seq: e.seq,
    type: e.type,
    actor: { type: e.actorType, id: e.actorId ?? null },
    target: e.targetType ? { type: e.targetType, id: e.targetId ?? null } : null,
    ip: e.ip ?? null,
    userAgent: e.userAgent ?? null,
    requestId: e.requestId ?? null,
    before: e.before ?? null,
    after: e.after ?? null,
    occurredAt: e.occurredAt.toISOString(),
    hash: e.hash,
    prevHash: e.prevHash,
  };
}
export type AuditEventView = ReturnType<typeof auditEventView>;
