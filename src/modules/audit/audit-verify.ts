import type { Database } from '../../db/database.ts';
import type { AuditEvent } from './audit-event.entity.ts';
import { chainHash, GENESIS_HASH } from './audit-chain.ts';
import { AuditRepository } from './audit.repository.ts';

export type ChainBreak = 'content_changed' | 'link_broken' | 'missing_event' | 'head_mismatch';

export interface ChainReport {
  intact: boolean;
  eventsChecked: number;
  /** The first event where the chain breaks, and why. */
  brokenAt: { seq: number; eventId: string | null; reason: ChainBreak } | null;
}

/** Where a chain is read from: one transaction for everything, or one per call. */
export interface ChainReader {
  head(): Promise<{ seq: number; hash: string } | null>;
  chainPage(afterSeq: number, limit: number): Promise<AuditEvent[]>;
}

/**
 * Walks an org's chain page by page and recomputes every hash. Reports the first event that
 * does not match: edited content, a broken link, a gap, or events removed from the end (the
 * stored head says more exist). The head is read first: it and its event commit together, so
 * every event up to it is visible, and events appended while we walk are simply checked too.
 */
export async function walkChain(reader: ChainReader, pageSize = 1000): Promise<ChainReport> {
  const head = await reader.head();
  let prevHash = GENESIS_HASH;
  let expected = 1;
  let checked = 0;
  let atHead: AuditEvent | null = null;
  for (;;) {
    const events = await reader.chainPage(expected - 1, pageSize);
    for (const e of events) {
      if (e.seq !== expected) return broken(checked, expected, null, 'missing_event');
      if (e.prevHash !== prevHash) return broken(checked, e.seq, e.id, 'link_broken');
      if (chainHash(prevHash, e) !== e.hash) return broken(checked, e.seq, e.id, 'content_changed');
      if (e.seq === head?.seq) atHead = e;
      prevHash = e.hash;
      expected++;
      checked++;
    }
    if (events.length < pageSize) break;
  }
  if (!head) return checked ? broken(checked, 1, null, 'head_mismatch') : intact(0);
  if (expected - 1 < head.seq) return broken(checked, expected, null, 'head_mismatch');
  if (atHead?.hash !== head.hash) return broken(checked, head.seq, atHead?.id ?? null, 'head_mismatch');
  return intact(checked);
}

/** The chain of `orgId`, each page read in its own short transaction (the CLI's path). */
export function verifyChain(db: Database, orgId: string, pageSize = 1000): Promise<ChainReport> {
  return walkChain({
    head: () => db.inOrg(orgId, (em) => new AuditRepository(em).head()),
    chainPage: (afterSeq, limit) => db.inOrg(orgId, (em) => new AuditRepository(em).chainPage(afterSeq, limit)),
  }, pageSize);
}

function intact(checked: number): ChainReport {
  return { intact: true, eventsChecked: checked, brokenAt: null };
}

function broken(checked: number, seq: number, eventId: string | null, reason: ChainBreak): ChainReport {
  return { intact: false, eventsChecked: checked, brokenAt: { seq, eventId, reason } };
}
