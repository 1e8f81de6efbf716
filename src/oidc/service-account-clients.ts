import type { SecretBox } from '../crypto/secret-box.ts';
import type { Notifications } from '../db/notifications.ts';
import type { PlatformRepository, ServiceAccountClientRow } from '../modules/platform/platform.repository.ts';
import { serviceAccountClientId, serviceAccountsChannel } from '../modules/service-accounts/service-accounts.service.ts';

/** A service account as the issuer uses it, its secret opened (held in memory only). */
export type ServiceAccountClient = Readonly<Omit<ServiceAccountClientRow, 'secret'> & { client_secret: string }>;

export interface ServiceAccountClientsOptions {
  /** A safety net only: changes are forgotten when announced, not when this runs out. */
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  client: ServiceAccountClient;
  expiresAt: number;
}

/**
 * Service account clients for the token endpoint, kept per node: a token request reads the
 * client (to check its secret) and then its org claims, and both come from here, so a warm
 * request costs no database round trip and no decryption.
 *
 * Revocation still takes effect at once on every node: a change is announced on
 * `serviceAccountsChannel` in its own transaction and each node forgets the client when it commits
 * (src/db/notifications.ts). While the node is not listening, nothing is kept: every lookup reads
 * the database, as it did before there was a cache.
 *
 * Client ids that are not found are not kept. They are the caller's choice, so remembering them
 * would let anyone fill memory; and since a miss is never remembered, a new service account works
 * at once without any announcement. Found entries are bounded too (maxEntries, oldest out first).
 */
export class ServiceAccountClients {
  readonly #platform: PlatformRepository;
  readonly #secrets: SecretBox;
  readonly #notifications: Notifications;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** One lookup per client id at a time: a cold node under load reads each client once. */
  readonly #pending = new Map<string, Promise<ServiceAccountClient | undefined>>();
  /** Bumped by every change heard: a lookup that ran across one may have read the old row. */
  #epoch = 0;

  constructor(deps: { platform: PlatformRepository; secrets: SecretBox; notifications: Notifications }, opts: ServiceAccountClientsOptions = {}) {
    this.#platform = deps.platform;
    this.#secrets = deps.secrets;
    this.#notifications = deps.notifications;
    this.#ttlMs = opts.ttlMs ?? 60_000;
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
    deps.notifications.subscribe(serviceAccountsChannel, (payload) => this.#changed(payload));
    deps.notifications.onReset(() => this.clear());
  }

  /** The active service account with this client id, or undefined (revoked, unknown). */
  find(clientId: string): Promise<ServiceAccountClient | undefined> {
    if (!serviceAccountClientId.test(clientId)) return Promise.resolve(undefined);
    if (!this.#notifications.listening(serviceAccountsChannel)) return this.#load(clientId);
    const entry = this.#entries.get(clientId);
    if (entry && entry.expiresAt > this.#now()) return Promise.resolve(entry.client);
    let pending = this.#pending.get(clientId);
    if (!pending) {
      const lookup: Promise<ServiceAccountClient | undefined> = this.#fill(clientId).finally(() => {
        if (this.#pending.get(clientId) === lookup) this.#pending.delete(clientId);
      });
      pending = lookup;
      this.#pending.set(clientId, pending);
    }
    return pending;
  }

  /** Forgets one client: the next request for it reads the database. */
  forget(clientId: string): void {
    this.#epoch++;
    this.#entries.delete(clientId);
    this.#pending.delete(clientId);
  }

  /** Forgets every client (notifications may have been missed). */
  clear(): void {
    this.#epoch++;
    this.#entries.clear();
    this.#pending.clear();
  }

  async #fill(clientId: string): Promise<ServiceAccountClient | undefined> {
    const epoch = this.#epoch;
    const client = await this.#load(clientId);
    // Kept only if no change was heard while the row was read (it might predate that change),
    // and only while changes can be heard at all.
    if (client && epoch === this.#epoch && this.#notifications.listening(serviceAccountsChannel)) {
      this.#entries.delete(clientId);
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(clientId, { client, expiresAt: this.#now() + this.#ttlMs });
    }
    return client;
  }

  async #load(clientId: string): Promise<ServiceAccountClient | undefined> {
    const row = await this.#platform.findServiceAccountClient(clientId);
    if (!row) return undefined;
    const { secret, ...rest } = row;
    return Object.freeze({ ...rest, client_secret: this.#secrets.open(secret, row.client_id) });
  }

  #changed(payload: string): void {
    if (serviceAccountClientId.test(payload)) return this.forget(payload);
    const orgId = payload.startsWith('org:') ? payload.slice('org:'.length) : undefined;
    if (!orgId) return this.clear(); // a payload this node does not know: forget everything
    this.#epoch++;
    for (const [clientId, entry] of this.#entries) {
      if (entry.client.org_id === orgId) this.#entries.delete(clientId);
    }
    this.#pending.clear();
  }
}
