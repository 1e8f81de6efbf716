import type { OrgScope } from '../scope.ts';
import { AuditCheckpointsRepository, type PrefixEvent } from './audit-checkpoints.repository.ts';
import { GENESIS_HASH } from './audit-chain.ts';
import { recordAudit } from './audit.recorder.ts';

/**
 * One batch of audit retention in the scope's transaction: deletes the oldest events (at most
 * `limit`) that occurred before `before`, moves the org's checkpoint to the last one deleted and
 * records `audit.retention_applied`, all or nothing. Only a prefix of the chain ever goes: an
 * event that is not old stops the batch even if later ones are (clocks of several nodes), so the
 * chain stays whole from the checkpoint on. Resolves to the events deleted; null when another
 * node's retention holds this org (it does the work).
 */
export async function pruneAuditBatch(scope: OrgScope, before: Date, limit: number): Promise<number | null> {
  const checkpoints = new AuditCheckpointsRepository(scope.em, scope.orgId);
  // Cheap look first, so orgs with nothing old get no checkpoint row and no lock.
  if (oldPrefix(await checkpoints.oldest(1), before).length === 0) return 0;
  if (!(await checkpoints.lock(GENESIS_HASH))) return null;
  // Read again under the lock: another node may have deleted these since the look.
  const prefix = oldPrefix(await checkpoints.oldest(limit), before);
  const last = prefix.at(-1);
  if (!last) return 0;
  // The run is itself a change of the org: it joins the chain after the events it removes, and
  // before the checkpoint moves, so the checkpoint never covers the newest event (migration 0018)
  // and verify finds, after any checkpoint, the event that names it (audit-verify.ts).
  await recordAudit(scope, {
    type: 'audit.retention_applied',
    after: { deleted: prefix.length, before: before.toISOString(), throughSeq: last.seq },
  });
  // Then the checkpoint: migration 0016 lets the service delete only events it covers.
  await checkpoints.saveCheckpoint(last, prefix.length);
  const deleted = await checkpoints.deleteThrough(last.seq);
  return deleted;
}

function oldPrefix(events: PrefixEvent[], before: Date): PrefixEvent[] {
  const young = events.findIndex((e) => e.occurredAt >= before);
  return young === -1 ? events : events.slice(0, young);
}
