import { v7 as uuidv7 } from 'uuid';
import type { OrgScope } from '../scope.ts';
import { AuditRepository } from './audit.repository.ts';
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
  await recordAudits(scope, [input]);
}

/**
 * Several events of one change, appended in order with one lock of the chain head and one
 * write: the head stays locked for fewer round trips (busy writers such as SCIM provisioning).
 */
export async function recordAudits(scope: OrgScope, inputs: AuditInput[]): Promise<void> {
  if (inputs.length === 0) return;
  const audit = new AuditRepository(scope.em);
  const head = await audit.lockHead(scope.orgId, GENESIS_HASH);
  for (const input of inputs) audit.stage(head, chained(scope, head, input));
  await audit.save();
}

function chained(scope: OrgScope, head: { seq: number; hash: string }, input: AuditInput) {
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
  return { ...content, prevHash: head.hash, hash: chainHash(head.hash, content) };
}
