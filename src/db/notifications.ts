import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import type { EntityManager } from '@mikro-orm/sql';
import pg from 'pg';
import type { Logger } from 'pino';

// Cross-node cache invalidation on PostgreSQL LISTEN/NOTIFY (DESIGN.md: PostgreSQL is the
// distributed engine). A change sends a notification in its own transaction, so every node hears
// of it when it commits and never if it rolls back. Each node listens on one dedicated
// connection; while that connection is not known to work a cache cannot hear about changes, so
// `listening` is false and `onReset` handlers run (on losing it, and again once it is back).

/** Where a node listens: its own connection to PostgreSQL, or the embedded database's session. */
export type ListenTarget = { kind: 'postgresql'; url: string } | { kind: 'pglite'; pglite: PGlite };

export type NotificationHandler = (payload: string) => void;

// Channel names are written into LISTEN as identifiers, which PostgreSQL folds to lower case while
// pg_notify matches exactly: lower case only, and never built from input.
const channelName = /^[a-z_][a-z0-9_]{0,62}$/;
// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
const maxPayloadBytes = 7999;
// Each node's own round trip through NOTIFY, to know that its connection hears what is sent.
const probeChannel = 'gatehouse_notifications_probe';

function checkChannel(channel: string): void {
  if (!channelName.test(channel)) throw new Error(`notification channel "${channel}" must be a lower-case identifier`);
}

/**
 * Sends `payload` on `channel` when the transaction `em` is in commits (pg_notify is
 * transactional): never before, and not at all if it rolls back. Outside a transaction it would
 * announce a change that nothing made, so that is refused.
 */
export async function notify(em: EntityManager, channel: string, payload: string): Promise<void> {
  checkChannel(channel);
  if (!em.isInTransaction()) throw new Error('notify must run inside the transaction that makes the change');
  if (Buffer.byteLength(payload) > maxPayloadBytes) throw new Error(`notification payload over ${maxPayloadBytes} bytes`);
  await em.execute('SELECT pg_notify(?, ?)', [channel, payload]);
}

export interface NotificationsOptions {
  /** First reconnect delay after losing the connection; doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * How often the listening connection sends itself a notification and waits for it. A connection
   * that died silently (a partition, a dropped NAT entry) raises no error and TCP keepalive takes
   * minutes; a proxy that pools by transaction (PgBouncer) accepts LISTEN and never delivers.
   * Either is noticed within heartbeatMs + probeTimeoutMs, and at start-up the latter fails loudly.
   */
  heartbeatMs?: number;
  probeTimeoutMs?: number;
}

/** One node's listening end: handlers per channel, reset hooks, reconnection. */
export class Notifications {
  readonly #target: ListenTarget;
  readonly #log: Logger;
  readonly #opts: Required<NotificationsOptions>;
  readonly #handlers = new Map<string, Set<NotificationHandler>>();
  readonly #resets = new Set<() => void>();
  /** Channels LISTENed on a connection known to deliver: only these are heard. */
  readonly #listening = new Set<string>();
  readonly #probes = new Map<string, () => void>();
  #running = false;
  #client: pg.Client | undefined;
  #ready = false;
  #retry: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #backoffMs: number;
  #unlisten: Array<() => Promise<void>> = [];

  constructor(target: ListenTarget, log: Logger, opts: NotificationsOptions = {}) {
    this.#target = target;
    this.#log = log;
    this.#opts = { minBackoffMs: 100, maxBackoffMs: 10_000, heartbeatMs: 10_000, probeTimeoutMs: 5_000, ...opts };
    this.#backoffMs = this.#opts.minBackoffMs;
  }

  /** Calls `handler` with each payload sent on `channel`; returns the unsubscribe. */
  subscribe(channel: string, handler: NotificationHandler): () => void {
    checkChannel(channel);
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      if (this.#running) void this.#listen(channel);
    }
    handlers.add(handler);
    return () => { handlers.delete(handler); };
  }

  /** Calls `handler` whenever notifications may have been missed: a cache must forget all. */
  onReset(handler: () => void): () => void {
    this.#resets.add(handler);
    return () => { this.#resets.delete(handler); };
  }

  /** Whether a change sent on `channel` now would be heard; a cache must keep nothing otherwise. */
  listening(channel: string): boolean {
    return this.#listening.has(channel);
  }

  /** Listens on every subscribed channel; the first connection must work (its URL is the app's). */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    if (this.#target.kind === 'pglite') {
      const { pglite } = this.#target;
      for (const channel of this.#handlers.keys()) await this.#listenEmbedded(pglite, channel);
      return;
    }
    await this.#connect(this.#target.url, true);
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#retry);
    clearInterval(this.#heartbeat);
    this.#listening.clear();
    const client = this.#client;
    this.#client = undefined;
    this.#ready = false;
    await client?.end().catch(() => undefined);
    const unlisten = this.#unlisten.splice(0);
    // The embedded database may already be closed; then nothing listens anyway.
    await Promise.all(unlisten.map((u) => u().catch(() => undefined)));
  }

  async #connect(url: string, first: boolean): Promise<void> {
    // The URL may name its own application_name, which then wins (tests pick one to find it).
    const client = new pg.Client({ connectionString: url, application_name: 'gatehouse-notifications', keepAlive: true });
    client.on('notification', (msg) => {
      if (msg.channel === probeChannel) this.#probes.get(msg.payload ?? '')?.();
      else this.#dispatch(msg.channel, msg.payload ?? '');
    });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    this.#client = client;
    const channels = [...this.#handlers.keys()];
    try {
      await client.connect();
      for (const channel of [probeChannel, ...channels]) await client.query(`LISTEN ${channel}`);
      await this.#probe(client);
    } catch (err) {
      if (!first) return this.#lost(client, err);
      this.#running = false;
      this.#client = undefined;
      clearTimeout(this.#retry);
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#client !== client) return; // lost or stopped meanwhile
    this.#ready = true;
    for (const channel of channels) this.#listening.add(channel);
    for (const channel of this.#handlers.keys()) if (!this.#listening.has(channel)) void this.#listen(channel);
    this.#backoffMs = this.#opts.minBackoffMs;
    this.#heartbeat = setInterval(() => {
      this.#probe(client).catch((err: unknown) => this.#lost(client, err));
    }, this.#opts.heartbeatMs);
    this.#heartbeat.unref();
    if (!first) this.#log.info('notifications: listening again');
    // Whatever was sent while nothing listened is lost: caches start over.
    this.#reset();
  }

  /** Sends this connection a notification and waits for it to come back. */
  async #probe(client: pg.Client): Promise<void> {
    const nonce = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<void>((resolve, reject) => {
      this.#probes.set(nonce, resolve);
      timer = setTimeout(() => reject(new Error(
        `a notification sent through the listening connection did not come back within ${this.#opts.probeTimeoutMs} ms ` +
        '(LISTEN needs a session: is DATABASE_URL a proxy that pools by transaction?)')), this.#opts.probeTimeoutMs);
    });
    try {
      await Promise.all([client.query('SELECT pg_notify($1, $2)', [probeChannel, nonce]), heard]);
    } finally {
      clearTimeout(timer);
      this.#probes.delete(nonce);
    }
  }

  async #listen(channel: string): Promise<void> {
    if (this.#target.kind === 'pglite') {
      try {
        await this.#listenEmbedded(this.#target.pglite, channel);
      } catch (err) {
        this.#log.error({ err, channel }, 'notifications: LISTEN failed on the embedded database');
      }
      return;
    }
    const client = this.#client;
    if (!client || !this.#ready) return; // #connect listens on every channel once ready
    try {
      await client.query(`LISTEN ${channel}`);
      if (this.#client === client) this.#listening.add(channel);
    } catch (err) {
      this.#lost(client, err);
    }
  }

  // PGlite's listen runs LISTEN after any transaction in progress (it waits for the session), and
  // calls back once the statement that delivered the notification (COMMIT) has been read.
  async #listenEmbedded(pglite: PGlite, channel: string): Promise<void> {
    this.#unlisten.push(await pglite.listen(channel, (payload) => this.#dispatch(channel, payload)));
    this.#listening.add(channel);
  }

  #lost(client: pg.Client, err: unknown): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    this.#ready = false;
    this.#listening.clear();
    clearInterval(this.#heartbeat);
    client.end().catch(() => undefined);
    if (!this.#running) return;
    this.#log.warn({ err }, 'notifications: listening connection lost; caches are bypassed until it is back');
    this.#reset();
    const delay = this.#backoffMs / 2 + Math.random() * (this.#backoffMs / 2);
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#opts.maxBackoffMs);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (this.#running && this.#target.kind === 'postgresql') void this.#connect(this.#target.url, false);
    }, delay);
    this.#retry.unref();
  }

  #dispatch(channel: string, payload: string): void {
    for (const handler of this.#handlers.get(channel) ?? []) {
      try {
        handler(payload);
      } catch (err) {
        this.#log.error({ err, channel }, 'notification handler failed');
      }
    }
  }

  #reset(): void {
    for (const handler of this.#resets) {
      try {
        handler();
      } catch (err) {
        this.#log.error({ err }, 'notification reset handler failed');
      }
    }
  }
}
