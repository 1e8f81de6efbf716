import type { Database } from '../../db/database.ts';
import { chainHash, GENESIS_HASH } from './audit-chain.ts';
import { AuditRepository } from './audit.repository.ts';

export interface ChainReport {
  intact: boolean;
  eventsChecked: number;
  /** The first event where the chain breaks, and why. */
  brokenAt: { seq: number; eventId: string | null; reason: 'content_changed' | 'link_broken' | 'missing_event' | 'head_mismatch' } | null;
}

/**
 * Walks an org's chain in pages (each its own short transaction) and recomputes every hash.
 * Reports the first event that does not match: edited content, a broken link, a gap, or events
 * removed from the end (the stored head says more exist).
 */
export async function verifyChain(db: Database, orgId: string, pageSize = 1000): Promise<ChainReport> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (;;) {
    const events = await db.inOrg(orgId, (em) => new AuditRepository(em).chainPage(expectedSeq - 1, pageSize));
    for (const e of events) {
      if (e.seq !== expectedSeq) return broken(checked, expectedSeq, null, 'missing_event');
      if (e.prevHash !== prevHash) return broken(checked, e.seq, e.id, 'link_broken');
      if (chainHash(prevHash, e) !== e.hash) return broken(checked, e.seq, e.id, 'content_changed');
      prevHash = e.hash;
      expectedSeq++;
      checked++;
    }
    if (events.length < pageSize) break;
  }
  const head = await db.inOrg(orgId, (em) => new AuditRepository(em).head());
  if (head && (head.seq !== expectedSeq - 1 || head.hash !== prevHash)) {
    return broken(checked, expectedSeq, null, 'head_mismatch');
  }
  return { intact: true, eventsChecked: checked, brokenAt: null };
}

function broken(checked: number, seq: number, eventId: string | null, reason: NonNullable<ChainReport['brokenAt']>['reason']): ChainReport {
  return { intact: false, eventsChecked: checked, brokenAt: { seq, eventId, reason } };
}
