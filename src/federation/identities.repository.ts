import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';

/** A user's login methods (user_identities, migration 0011): global rows, like users. */
export class IdentitiesRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** The user this IdP subject signed in as before, if any; its last login and email are refreshed. */
  async touch(provider: string, subject: string, email: string): Promise<string | null> {
    const rows = await this.#em.execute<{ user_id: string }[]>(
      'UPDATE user_identities SET last_login_at = now(), email = ? WHERE provider = ? AND subject = ? RETURNING user_id',
      [email, provider, subject],
    );
    return rows[0]?.user_id ?? null;
  }

  async link(input: { userId: string; provider: string; connectionId: string | null; subject: string; email: string }): Promise<void> {
    await this.#em.execute(
      'INSERT INTO user_identities (id, user_id, provider, connection_id, subject, email) VALUES (?, ?, ?, ?, ?, ?)',
      [uuidv7(), input.userId, input.provider, input.connectionId, input.subject, input.email],
    );
  }
}

/** The identity provider name of an org connection: subjects are unique per connection. */
export function connectionProvider(connectionId: string): string {
  return `connection:${connectionId}`;
}
