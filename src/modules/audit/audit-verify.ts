import type { EntityManager } from '@mikro-orm/sql';
import type { Database } from '../../db/database.ts';
import { AuditCheckpointsRepository } from './audit-checkpoints.repository.ts';
import type { AuditEvent } from './audit-event.entity.ts';
import { chainHash, GENESIS_HASH } from './audit-chain.ts';
import { AuditRepository } from './audit.repository.ts';

export type ChainBreak = 'content_changed' | 'link_broken' | 'missing_event' | 'head_mismatch' | 'checkpoint_unexplained';

export interface ChainReport {
  intact: boolean;
  eventsChecked: number;
  /** The first event where the chain breaks, and why. */
  brokenAt: { seq: number; eventId: string | null; reason: ChainBreak } | null;
}

/** Where a chain is read from: one transaction for everything, or one per call. */
export interface ChainReader {
  head(): Promise<{ seq: number; hash: string } | null>;
  /** Where the chain starts after retention deleted its oldest events (null: at genesis). */
  checkpoint(): Promise<{ seq: number; hash: string } | null>;
  chainPage(afterSeq: number, limit: number): Promise<AuditEvent[]>;
}

/**
 * Walks an org's chain page by page and recomputes every hash. Reports the first event that
 * does not match: edited content, a broken link, a gap, or events removed from the end (the
 * stored head says more exist). The head is read first: it and its event commit together, so
 * every event up to it is visible, and events appended while we walk are simply checked too.
 * After retention the walk starts at the org's checkpoint: the first event kept must link to the
 * hash of the last one deleted. Events the checkpoint says were deleted must be gone (the first
 * page is read from the very start), and a gap anywhere else is still a missing event.
 * Retention appends `audit.retention_applied` (after.throughSeq: the checkpoint it set) after the
 * events it deletes, so a checkpoint with no such event after it was not retention's: someone
 * moved it to delete a prefix of the trail (possibly all of it) and is reported.
 */
export async function walkChain(reader: ChainReader, pageSize = 1000): Promise<ChainReport> {
  let checkpoint = await reader.checkpoint();
  const head = await reader.head();
  let prevHash = checkpoint?.hash ?? GENESIS_HASH;
  let expected = (checkpoint?.seq ?? 0) + 1;
  let checked = 0;
  let atHead: AuditEvent | null = null;
  let afterSeq = 0;
  const explained = new Set<number>();
  for (;;) {
    const events = await reader.chainPage(afterSeq, pageSize);
    for (const e of events) {
      if (e.seq > expected) {
        // Read page by page (the CLI), retention may have moved the checkpoint past us meanwhile.
        const moved = await reader.checkpoint();
        if (moved && moved.seq > (checkpoint?.seq ?? 0) && moved.seq + 1 === e.seq) {
          checkpoint = moved;
          prevHash = moved.hash;
          expected = e.seq;
        }
      }
      // Still there although the checkpoint says it was deleted: it cannot link to the checkpoint.
      if (e.seq < expected) return broken(checked, e.seq, e.id, 'link_broken');
      if (e.seq !== expected) return broken(checked, expected, null, 'missing_event');
      if (e.prevHash !== prevHash) return broken(checked, e.seq, e.id, 'link_broken');
      if (chainHash(prevHash, e) !== e.hash) return broken(checked, e.seq, e.id, 'content_changed');
      if (e.seq === head?.seq) atHead = e;
      if (e.type === 'audit.retention_applied' && typeof e.after?.throughSeq === 'number') explained.add(e.after.throughSeq);
      prevHash = e.hash;
      expected++;
      checked++;
    }
    if (events.length < pageSize) break;
    afterSeq = expected - 1;
  }
  if (!head) return checked || checkpoint ? broken(checked, 1, null, 'head_mismatch') : intact(0);
  if (expected - 1 < head.seq) return broken(checked, expected, null, 'head_mismatch');
  // Every event after the checkpoint gone: the head is the checkpoint's event (and no retention
  // event explains the checkpoint, below).
  const headHash = atHead?.hash ?? (checkpoint?.seq === head.seq ? checkpoint.hash : null);
  if (headHash !== head.hash) return broken(checked, head.seq, atHead?.id ?? null, 'head_mismatch');
  if (checkpoint && checkpoint.seq > 0 && !explained.has(checkpoint.seq)) return broken(checked, checkpoint.seq, null, 'checkpoint_unexplained');
  return intact(checked);
}

/** The chain of `orgId` read in the transaction of `em` (the API's path). */
export function chainReaderIn(em: EntityManager, orgId: string): ChainReader {
  const audit = new AuditRepository(em);
  return {
    head: () => audit.head(),
    checkpoint: () => new AuditCheckpointsRepository(em, orgId).find(),
    chainPage: (afterSeq, limit) => audit.chainPage(afterSeq, limit),
  };
}

/** The chain of `orgId`, each read in its own short transaction (the CLI's path). */
export function verifyChain(db: Database, orgId: string, pageSize = 1000): Promise<ChainReport> {
  return walkChain({
    head: () => db.inOrg(orgId, (em) => chainReaderIn(em, orgId).head()),
    checkpoint: () => db.inOrg(orgId, (em) => chainReaderIn(em, orgId).checkpoint()),
    chainPage: (afterSeq, limit) => db.inOrg(orgId, (em) => chainReaderIn(em, orgId).chainPage(afterSeq, limit)),
  }, pageSize);
}

function intact(checked: number): ChainReport {
  return { intact: true, eventsChecked: checked, brokenAt: null };
}

function broken(checked: number, seq: number, eventId: string | null, reason: ChainBreak): ChainReport {
  return { intact: false, eventsChecked: checked, brokenAt: { seq, eventId, reason } };
}
