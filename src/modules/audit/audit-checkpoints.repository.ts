import type { EntityManager } from '@mikro-orm/sql';

/** Where an org's chain starts after retention: the last deleted event (seq 0: nothing deleted). */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
}

interface CheckpointRow {
  seq: string | number;
  hash: string;
}

/** The oldest events of the org's chain, for retention. */
export interface PrefixEvent {
  seq: number;
  hash: string;
  occurredAt: Date;
}

/**
 * The SQL of audit retention, in the org's transaction (RLS keeps it to that org). Deleting is
 * only possible under a checkpoint (migration 0016's trigger), so `saveCheckpoint` comes first.
 */
export class AuditCheckpointsRepository {
  readonly #em: EntityManager;
  readonly #orgId: string;

  constructor(em: EntityManager, orgId: string) {
    this.#em = em;
    this.#orgId = orgId;
  }

  async find(): Promise<AuditCheckpoint | null> {
    const [row] = await this.#em.execute<CheckpointRow[]>('SELECT seq, hash FROM audit_checkpoints WHERE org_id = ?', [this.#orgId]);
    return row ? { seq: Number(row.seq), hash: row.hash } : null;
  }

  /**
   * The org's checkpoint row, locked for this transaction, made at `genesis` if the org has none;
   * null when another node's retention holds it (SKIP LOCKED: that node is doing this org).
   */
  async lock(genesisHash: string): Promise<AuditCheckpoint | null> {
    await this.#em.execute(
      'INSERT INTO audit_checkpoints (org_id, seq, hash) VALUES (?, 0, ?) ON CONFLICT (org_id) DO NOTHING',
      [this.#orgId, genesisHash],
    );
    const [row] = await this.#em.execute<CheckpointRow[]>(
      'SELECT seq, hash FROM audit_checkpoints WHERE org_id = ? FOR UPDATE SKIP LOCKED', [this.#orgId],
    );
    return row ? { seq: Number(row.seq), hash: row.hash } : null;
  }

  /** The first `limit` events still in the chain, oldest first. */
  async oldest(limit: number): Promise<PrefixEvent[]> {
    const rows = await this.#em.execute<Array<{ seq: string | number; hash: string; occurred_at: Date | string }>>(
      'SELECT seq, hash, occurred_at FROM audit_events WHERE org_id = ? ORDER BY seq LIMIT ?', [this.#orgId, limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, occurredAt: new Date(r.occurred_at) }));
  }

  /** Moves the checkpoint to `last` (the last event about to be deleted). */
  async saveCheckpoint(last: AuditCheckpoint, deleted: number): Promise<void> {
    await this.#em.execute(
      'UPDATE audit_checkpoints SET seq = ?, hash = ?, deleted_count = deleted_count + ?, updated_at = now() WHERE org_id = ?',
      [last.seq, last.hash, deleted, this.#orgId],
    );
  }

  /** Deletes the events up to and including `seq`; resolves to how many went. */
  async deleteThrough(seq: number): Promise<number> {
    const rows = await this.#em.execute('DELETE FROM audit_events WHERE org_id = ? AND seq <= ? RETURNING 1', [this.#orgId, seq]);
    return rows.length;
  }
}
