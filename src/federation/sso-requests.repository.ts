import type { EntityManager } from '@mikro-orm/sql';
import type { Database } from '../db/database.ts';
import { toDate } from '../db/rows.ts';
import type { SsoProfile } from './sso-profile.ts';

export type SsoProvider = 'saml' | 'oidc' | 'google' | 'github';

export interface SsoRequestRow {
  id: string;
  provider: SsoProvider;
  connection_id: string | null;
  interaction_uid: string | null;
  nonce: string | null;
  code_verifier_sealed: string | null;
  outcome: SsoProfile | null;
  /** A test sign-in's request (no interaction: nobody is signed in at its end). */
  test_id: string | null;
  used_at: Date | null;
  expires_at: Date;
}

export interface NewSsoRequest {
  id: string;
  provider: SsoProvider;
  connectionId: string | null;
  interactionUid: string | null;
  nonce?: string | null;
  codeVerifierSealed?: string | null;
  outcome?: SsoProfile | null;
  testId?: string | null;
  ttlSeconds: number;
}

/**
 * Requests this deployment sent to IdPs (SAML AuthnRequests, upstream OIDC states) and, once an
 * IdP has answered and every check passed, the verified profile waiting for the browser's
 * interaction to take it (migration 0011). Global rows: platform sign-in has no org.
 */
export class SsoRequestsRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  create(input: NewSsoRequest): Promise<void> {
    return this.#db.withoutOrg(async (em) => {
      await em.execute(
        `INSERT INTO sso_requests (id, provider, connection_id, interaction_uid, nonce, code_verifier_sealed, outcome, test_id, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, now() + make_interval(secs => ?))`,
        [input.id, input.provider, input.connectionId, input.interactionUid, input.nonce ?? null, input.codeVerifierSealed ?? null,
          input.outcome ? JSON.stringify(input.outcome) : null, input.testId ?? null, input.ttlSeconds],
      );
    });
  }

  /** An unexpired request of this provider and connection (null for platform sign-in); null when unknown. */
  find(id: string, provider: SsoProvider, connectionId: string | null): Promise<SsoRequestRow | null> {
    return this.#db.withoutOrg(async (em) => {
      const rows = await em.execute<SsoRequestRow[]>(
        `SELECT * FROM sso_requests
          WHERE id = ? AND provider = ? AND connection_id IS NOT DISTINCT FROM ? AND expires_at > now()`,
        [id, provider, connectionId],
      );
      return rows[0] ? rowOf(rows[0]) : null;
    });
  }

  /**
   * The IdP's answer to request `id`, taken once: marks it answered with the verified profile and
   * returns the interaction that started it. Null when the request is unknown, expired, of
   * another connection, not started by an interaction, or answered already.
   */
  answer(id: string, provider: SsoProvider, connectionId: string | null, outcome: SsoProfile): Promise<string | null> {
    return this.#db.withoutOrg(async (em) => {
      const rows = await em.execute<{ interaction_uid: string }[]>(
        `UPDATE sso_requests SET outcome = ?, used_at = now()
          WHERE id = ? AND provider = ? AND connection_id IS NOT DISTINCT FROM ? AND interaction_uid IS NOT NULL
            AND used_at IS NULL AND expires_at > now()
         RETURNING interaction_uid`,
        [JSON.stringify(outcome), id, provider, connectionId],
      );
      return rows[0]?.interaction_uid ?? null;
    });
  }

  /**
   * The IdP's answer to a test sign-in's request `id`, taken once as `answer` takes a real one;
   * the test it belongs to, or null. Nothing of the profile is kept here: the test stores it.
   */
  answerTest(id: string, provider: SsoProvider, connectionId: string): Promise<string | null> {
    return this.#db.withoutOrg(async (em) => {
      const rows = await em.execute<{ test_id: string }[]>(
        `UPDATE sso_requests SET used_at = now()
          WHERE id = ? AND provider = ? AND connection_id = ? AND test_id IS NOT NULL AND used_at IS NULL AND expires_at > now()
         RETURNING test_id`,
        [id, provider, connectionId],
      );
      return rows[0]?.test_id ?? null;
    });
  }

  /** An IdP-initiated answer waiting for its browser (not taken): for the confirmation page. */
  findTicket(id: string): Promise<SsoRequestRow | null> {
    return this.#db.withoutOrg(async (em) => {
      const rows = await em.execute<SsoRequestRow[]>(
        'SELECT * FROM sso_requests WHERE id = ? AND interaction_uid IS NULL AND outcome IS NOT NULL AND expires_at > now()', [id]);
      return rows[0] ? rowOf(rows[0]) : null;
    });
  }

  /** The verified outcome of request `id`, for the interaction `interactionUid` only, taken once (deleted). */
  takeOutcome(em: EntityManager, id: string, interactionUid: string | null): Promise<SsoRequestRow | null> {
    return em.execute<SsoRequestRow[]>(
      `DELETE FROM sso_requests
        WHERE id = ? AND interaction_uid IS NOT DISTINCT FROM ? AND outcome IS NOT NULL AND expires_at > now()
        RETURNING *`,
      [id, interactionUid],
    ).then((rows) => (rows[0] ? rowOf(rows[0]) : null));
  }
}

function rowOf(row: SsoRequestRow): SsoRequestRow {
  return { ...row, used_at: toDate(row.used_at), expires_at: toDate(row.expires_at)! };
}
