import type { EntityManager } from '@mikro-orm/sql';
import { toDate } from '../../db/rows.ts';

/** The org's org_billing row: its Stripe customer and subscription as Gatehouse last understood them. */
export interface OrgBillingRow {
  org_id: string;
  plan: string;
  status: string;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  current_period_end: Date | null;
  grace_until: Date | null;
  subscription_synced_at: Date | null;
}

const COLUMNS = 'org_id, plan, status, stripe_customer_id, stripe_subscription_id, current_period_end, grace_until, subscription_synced_at';

function withDates(row: OrgBillingRow): OrgBillingRow {
  return {
    ...row,
    current_period_end: toDate(row.current_period_end),
    grace_until: toDate(row.grace_until),
    subscription_synced_at: toDate(row.subscription_synced_at),
  };
}

/** org_billing of the scoped org (its em is the org's transaction; RLS hides every other org). */
export class BillingRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async find(orgId: string): Promise<OrgBillingRow | null> {
    const rows = await this.#em.execute<OrgBillingRow[]>(`SELECT ${COLUMNS} FROM org_billing WHERE org_id = ?`, [orgId]);
    return rows[0] ? withDates(rows[0]) : null;
  }

  /**
   * The org's row, created with `plan` and status 'none' if missing, locked until the transaction
   * ends: concurrent first checkouts queue here, so only one creates the Stripe customer.
   */
  async lockOrCreate(orgId: string, plan: string): Promise<OrgBillingRow> {
    await this.#em.execute(
      `INSERT INTO org_billing (org_id, plan, status) VALUES (?, ?, 'none') ON CONFLICT (org_id) DO NOTHING`, [orgId, plan]);
    const rows = await this.#em.execute<OrgBillingRow[]>(`SELECT ${COLUMNS} FROM org_billing WHERE org_id = ? FOR UPDATE`, [orgId]);
    return withDates(rows[0]!);
  }

  async setCustomer(orgId: string, customerId: string): Promise<void> {
    await this.#em.execute(
      'UPDATE org_billing SET stripe_customer_id = ?, updated_at = now() WHERE org_id = ?', [customerId, orgId]);
  }

  /** Seats taken: members plus pending, unexpired invitations (what the plan's seat limit counts). */
  async seatsUsed(orgId: string): Promise<number> {
    const rows = await this.#em.execute<{ seats: string | number }[]>(
      `SELECT (SELECT count(*) FROM memberships WHERE org_id = ?)
            + (SELECT count(*) FROM invitations WHERE org_id = ? AND status = 'pending' AND expires_at > now()) AS seats`,
      [orgId, orgId],
    );
    return Number(rows[0]!.seats);
  }
}
