import type { Adapter, AdapterPayload, ClientMetadata } from 'oidc-provider';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../db/database.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import { serviceAccountClientId } from '../modules/service-accounts/service-accounts.service.ts';
import { OAuthClientsRepository } from './oauth-clients.repository.ts';

/**
 * oidc-provider's `Client` model, read from our own tables: platform clients (web apps, SPAs)
 * and org service accounts. Looked up on every use, so a revoked client stops working at once.
 * Secrets are stored sealed; the provider compares the presented one with the opened value.
 */
export class ClientStore implements Adapter {
  readonly #db: Database;
  readonly #platform: PlatformRepository;
  readonly #secrets: SecretBox;

  constructor(deps: { db: Database; platform: PlatformRepository; secrets: SecretBox }) {
    this.#db = deps.db;
    this.#platform = deps.platform;
    this.#secrets = deps.secrets;
  }

  async find(clientId: string): Promise<AdapterPayload | undefined> {
    if (serviceAccountClientId.test(clientId)) return this.#serviceAccount(clientId);
    const client = await this.#db.withoutOrg((em) => new OAuthClientsRepository(em).findActive(clientId));
    if (!client) return undefined;
    const metadata: ClientMetadata = {
      client_id: client.clientId,
      client_name: client.name,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: client.public ? 'none' : 'client_secret_basic',
      ...(client.secret ? { client_secret: this.#secrets.open(client.secret, client.clientId) } : {}),
      ...(client.backchannelLogoutUri ? { backchannel_logout_uri: client.backchannelLogoutUri } : {}),
    };
    return metadata;
  }

  async #serviceAccount(clientId: string): Promise<AdapterPayload | undefined> {
    const account = await this.#platform.findServiceAccountClient(clientId);
    if (!account) return undefined;
    const metadata: ClientMetadata = {
      client_id: account.client_id,
      client_secret: this.#secrets.open(account.secret, account.client_id),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    };
    return metadata;
  }

  // Clients are managed through Gatehouse (CLI, API), never through the provider.
  async upsert(): Promise<void> {
    throw new Error('clients are not written through oidc-provider');
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}
