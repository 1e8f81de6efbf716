import type { QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import type { Database } from '../../db/database.ts';

// The webhook's SQL (migration 0015, and the org_billing writes of a subscription sync). Events
// are claimed by id with INSERT ... ON CONFLICT DO NOTHING: a second delivery of the same event,
// concurrent or later, waits on the key and inserts nothing, so its effect is skipped.

export interface ReceivedEvent {
  id: string;
  type: string;
  /** Stripe's `created`, seconds since the epoch. */
  created: number;
  payload: unknown;
}

/** What a subscription sync writes to the org's org_billing row. */
export interface SubscriptionState {
  plan: string;
  status: string;
  subscriptionId: string;
  currentPeriodEnd: Date | null;
  graceUntil: Date | null;
  syncedAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// No conflict target: naming one needs SELECT on the table, which the platform role must not
// have; the primary key is the table's only unique constraint, so the meaning is the same.
const insertEvent = `INSERT INTO stripe_events (id, type, org_id, outcome, stripe_created_at, payload)
  VALUES (?, ?, ?, ?, to_timestamp(?), ?::jsonb) ON CONFLICT DO NOTHING`;

/** Inside one org's transaction (RLS: only that org's events and billing row). */
export class StripeEventsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** Claims the event for the org; false when some delivery of it was stored before. */
  async claim(orgId: string, event: ReceivedEvent): Promise<boolean> {
    const result = await this.#em.execute<QueryResult>(
      insertEvent, [event.id, event.type, orgId, 'processed', event.created, JSON.stringify(event.payload)], 'run');
    return result.affectedRows === 1;
  }

  async writeSubscription(orgId: string, state: SubscriptionState): Promise<void> {
    await this.#em.execute(
      `UPDATE org_billing SET plan = ?, status = ?, stripe_subscription_id = ?, current_period_end = ?, grace_until = ?,
              subscription_synced_at = ?, updated_at = now()
        WHERE org_id = ?`,
      [state.plan, state.status, state.subscriptionId, state.currentPeriodEnd, state.graceUntil, state.syncedAt, orgId],
    );
  }
}

/** The webhook's cross-org reads and its store of events that belong to no org (platform role). */
export class StripeWebhookPlatformRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** The org a Stripe customer is linked to (org_billing.stripe_customer_id is unique). */
  orgOfCustomer(customerId: string): Promise<string | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<{ org_id: string }[]>('SELECT org_id FROM org_billing WHERE stripe_customer_id = ?', [customerId]);
      return rows[0]?.org_id ?? null;
    });
  }

  /** An existing org and the customer it is linked to, if any; null for no such org. */
  findOrg(orgId: string): Promise<{ customerId: string | null } | null> {
    if (!UUID.test(orgId)) return Promise.resolve(null);
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<{ stripe_customer_id: string | null }[]>(
        `SELECT b.stripe_customer_id FROM organizations o LEFT JOIN org_billing b ON b.org_id = o.id WHERE o.id = ?`, [orgId]);
      return rows[0] ? { customerId: rows[0].stripe_customer_id } : null;
    });
  }

  /** Stores an event no org takes (ignored); false when it was stored before. */
  storeIgnored(event: ReceivedEvent): Promise<boolean> {
    return this.#db.asPlatform(async (em) => {
      const result = await em.execute<QueryResult>(
        insertEvent, [event.id, event.type, null, 'ignored', event.created, JSON.stringify(event.payload)], 'run');
      return result.affectedRows === 1;
    });
  }
}
