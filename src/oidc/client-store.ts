import type { Adapter, AdapterPayload, ClientMetadata } from 'oidc-provider';
import type { Config } from '../../config/config.schema.ts';
import { consoleClientId, consoleClientMetadata } from '../admin/console-client.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../db/database.ts';
import { serviceAccountClientId } from '../modules/service-accounts/service-accounts.service.ts';
import { OAuthClientsRepository } from './oauth-clients.repository.ts';
import { tokenExchangeGrantType } from './token-exchange.ts';
import type { ServiceAccountClients } from './service-account-clients.ts';

/**
 * oidc-provider's `Client` model, read from our own tables: platform clients (web apps, SPAs)
 * and org service accounts. Platform clients are looked up on every use; service accounts, used
 * on every machine token request, come from the per-node cache that every node empties of a client
 * when its revocation commits. Either way a revoked client stops working at once. Secrets are
 * stored sealed; the provider compares the presented one with the opened value.
 */
export class ClientStore implements Adapter {
  readonly #config: Config;
  readonly #db: Database;
  readonly #secrets: SecretBox;
  readonly #serviceAccounts: ServiceAccountClients;

  constructor(deps: { config: Config; db: Database; secrets: SecretBox; serviceAccountClients: ServiceAccountClients }) {
    this.#config = deps.config;
    this.#db = deps.db;
    this.#secrets = deps.secrets;
    this.#serviceAccounts = deps.serviceAccountClients;
  }

  async find(clientId: string): Promise<AdapterPayload | undefined> {
    if (serviceAccountClientId.test(clientId)) return this.#serviceAccount(clientId);
    if (clientId === consoleClientId) return consoleClientMetadata(this.#config);
    const client = await this.#db.withoutOrg((em) => new OAuthClientsRepository(em).findActive(clientId));
    if (!client) return undefined;
    const metadata: ClientMetadata = {
      client_id: client.clientId,
      client_name: client.name,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token', tokenExchangeGrantType],
      response_types: ['code'],
      token_endpoint_auth_method: client.public ? 'none' : 'client_secret_basic',
      ...(client.secret ? { client_secret: this.#secrets.open(client.secret, client.clientId) } : {}),
      // with session_required, ID tokens carry `sid` and logout tokens name the session that ended
      ...(client.backchannelLogoutUri ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    };
    return metadata;
  }

  async #serviceAccount(clientId: string): Promise<AdapterPayload | undefined> {
    const account = await this.#serviceAccounts.find(clientId);
    if (!account) return undefined;
    const metadata: ClientMetadata = {
      client_id: account.client_id,
      client_secret: account.client_secret,
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
