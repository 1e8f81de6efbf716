import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';

export interface ClaimedMessage {
  id: string;
  recipient: string;
  subject: string;
  body: string | null;
  /** Attempts including the one just claimed. */
  attempts: number;
}

// Raw SQL throughout: the service role may only INSERT into the outbox (no SELECT, so no
// RETURNING), and the dispatcher's platform role may only SELECT and UPDATE it. Times come from
// the database clock so nodes with skewed clocks agree on what is due.
export class OutboxRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** Queues one message in the caller's transaction. */
  async enqueue(mail: { to: string; subject: string; text: string }): Promise<string> {
    const id = uuidv7();
    await this.#em.execute(
      `INSERT INTO outbox_messages (id, recipient, subject, body, status) VALUES (?, ?, ?, ?, 'pending')`,
      [id, mail.to, mail.subject, mail.text],
    );
    return id;
  }

  /**
   * Claims the next due message, if any: counts the attempt and hides it for `leaseMs`, so other
   * dispatchers skip it while this one sends (and retry it if this one dies mid-send). One at a
   * time, right before its send: a lease only ever has to cover a single send. `skip` holds the
   * ids a round has tried already, so a message retried with a short backoff waits for the next.
   */
  async claimNext(leaseMs: number, skip: readonly string[] = []): Promise<ClaimedMessage | null> {
    const rows = await this.#em.execute<ClaimedMessage[]>(
      `UPDATE outbox_messages o
          SET attempts = o.attempts + 1, available_at = now() + ?::interval
        WHERE o.id = (SELECT id FROM outbox_messages
                       WHERE status = 'pending' AND available_at <= now() AND NOT (id = ANY(?::uuid[]))
                       ORDER BY available_at, id LIMIT 1
                       FOR UPDATE SKIP LOCKED)
        RETURNING o.id, o.recipient, o.subject, o.body, o.attempts`,
      // ids are uuids we generated, so a plain array literal needs no quoting.
      [`${leaseMs} milliseconds`, `{${skip.join(',')}}`],
    );
    return rows[0] ?? null;
  }

  /** Sent: the body goes, since it may hold a one-time link. */
  async markSent(id: string): Promise<void> {
    await this.#em.execute(`UPDATE outbox_messages SET status = 'sent', sent_at = now(), body = NULL WHERE id = ?`, [id]);
  }

  async retryLater(id: string, error: string, delayMs: number): Promise<void> {
    await this.#em.execute(
      `UPDATE outbox_messages SET last_error = ?, available_at = now() + ?::interval WHERE id = ?`,
      [error, `${delayMs} milliseconds`, id],
    );
  }

  /** Given up: nothing will send the body any more, so it is not kept either. */
  async markFailed(id: string, error: string): Promise<void> {
    await this.#em.execute(`UPDATE outbox_messages SET status = 'failed', last_error = ?, body = NULL WHERE id = ?`, [error, id]);
  }
}
