import type { EntityManager } from '@mikro-orm/sql';
import { OAuthClient } from './oauth-client.entity.ts';

export class OAuthClientsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  findActive(clientId: string): Promise<OAuthClient | null> {
    return this.#em.findOne(OAuthClient, { clientId, revokedAt: null });
  }

  /** Active clients in client id order, limit + 1 rows (see toPage). */
  listActivePage(limit: number, after: string | undefined): Promise<OAuthClient[]> {
    return this.#em.find(OAuthClient, { revokedAt: null, ...(after ? { clientId: { $gt: after } } : {}) }, { orderBy: { clientId: 'asc' }, limit: limit + 1 });
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  async create(input: { clientId: string; name: string; public: boolean; redirectUris: string[]; postLogoutRedirectUris: string[]; backchannelLogoutUri: string | null; secret: string | null }): Promise<OAuthClient> {
    const client = this.#em.create(OAuthClient, input);
    await this.#em.flush();
    return client;
  }
}
