import type { EntityManager } from '@mikro-orm/sql';
import { toDate } from '../../db/rows.ts';

/** What a test sign-in found: what arrived and the role it maps to, or the check that failed. */
export type ConnectionTestResult =
  | {
    ok: true;
    subject: string;
    email: string;
    givenName: string | null;
    familyName: string | null;
    groups: string[];
    /** Every attribute (SAML) or claim (OIDC) the IdP sent, by name. */
    attributes: Record<string, string[]>;
    role: string;
    /** The group of the rule that gave the role; null: the connection's default role. */
    ruleGroup: string | null;
    teamIds: string[];
  }
  | { ok: false; code: string; message: string };

export interface ConnectionTestRow {
  id: string;
  org_id: string;
  connection_id: string;
  return_to: string;
  started_at: Date | null;
  finished_at: Date | null;
  result: ConnectionTestResult | null;
  expires_at: Date;
  created_at: Date;
}

/**
 * The org's test sign-ins (migration 0022), on the org's transaction: row-level security keeps
 * other orgs' tests out, whoever asks (the API, or an SSO edge writing in the connection's org).
 */
export class ConnectionTestsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async create(input: { id: string; orgId: string; connectionId: string; returnTo: string; ttlSeconds: number }): Promise<ConnectionTestRow> {
    const rows = await this.#em.execute<ConnectionTestRow[]>(
      `INSERT INTO sso_tests (id, org_id, connection_id, return_to, expires_at)
       VALUES (?, ?, ?, ?, now() + make_interval(secs => ?)) RETURNING *`,
      [input.id, input.orgId, input.connectionId, input.returnTo, input.ttlSeconds],
    );
    return rowOf(rows[0]!);
  }

  async find(id: string, connectionId: string): Promise<ConnectionTestRow | null> {
    const rows = await this.#em.execute<ConnectionTestRow[]>('SELECT * FROM sso_tests WHERE id = ? AND connection_id = ?', [id, connectionId]);
    return rows[0] ? rowOf(rows[0]) : null;
  }

  /** Marks an unexpired, never started test started, once: the link that starts it works one time. */
  async claimStart(id: string, connectionId: string): Promise<ConnectionTestRow | null> {
    const rows = await this.#em.execute<ConnectionTestRow[]>(
      `UPDATE sso_tests SET started_at = now()
        WHERE id = ? AND connection_id = ? AND started_at IS NULL AND expires_at > now() RETURNING *`,
      [id, connectionId],
    );
    return rows[0] ? rowOf(rows[0]) : null;
  }

  /** Stores the outcome of a started, unfinished test, once; null when it was finished already. */
  async finish(id: string, result: ConnectionTestResult): Promise<ConnectionTestRow | null> {
    const rows = await this.#em.execute<ConnectionTestRow[]>(
      `UPDATE sso_tests SET result = ?, finished_at = now()
        WHERE id = ? AND started_at IS NOT NULL AND finished_at IS NULL RETURNING *`,
      [JSON.stringify(result), id],
    );
    return rows[0] ? rowOf(rows[0]) : null;
  }
}

function rowOf(row: ConnectionTestRow): ConnectionTestRow {
  return {
    ...row, started_at: toDate(row.started_at), finished_at: toDate(row.finished_at), expires_at: toDate(row.expires_at)!, created_at: toDate(row.created_at)!,
    result: typeof row.result === 'string' ? JSON.parse(row.result) as ConnectionTestResult : row.result,
  };
}
