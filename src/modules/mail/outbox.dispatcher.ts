import type { Logger } from 'pino';
import type { Config } from '../../../config/config.schema.ts';
import type { Database } from '../../db/database.ts';
import { logTransport, smtpTransport, type MailTransport } from './mail-transport.ts';
import { OutboxRepository, type ClaimedMessage } from './outbox.repository.ts';

export interface DispatcherOptions {
  db: Database;
  transport: MailTransport;
  from: string;
  logger: Logger;
  /** Messages sent per round at most (each claimed just before its send). */
  roundSize?: number;
  /** Attempts before a message is marked failed. */
  maxAttempts?: number;
  /** Wait between rounds that found less than a full batch. */
  pollIntervalMs?: number;
  /** How long a claimed message stays hidden from other dispatchers while it is being sent. */
  leaseMs?: number;
  /** Delay before the next try after `attempts` failed ones. */
  retryDelayMs?: (attempts: number) => number;
}

export interface DrainResult {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
}

/** 30 s, 1 min, 2 min, … capped at an hour. */
export function backoff(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}

/**
 * Delivers the mail outbox. Runs as the platform role (the outbox belongs to no org). A message
 * is claimed in one short transaction and sent outside it, so a slow SMTP server never holds a
 * database connection; delivery is at-least-once (a crash between send and mark resends after
 * the lease). No error escapes the polling loop: it is logged and the next round runs.
 *
 * The lease is per message: each is claimed right before its own send, never while earlier ones
 * are being sent. A batch claimed up front under one lease would have to be sent in full within
 * it, and serial sends under the SMTP timeouts (connect 10 s + greeting 10 s + 30 s of socket
 * silence, see mail-transport.ts: about 50 s each against a dead server) may take 20 × 50 s, far
 * past a 5-minute lease; another node would then claim the unsent tail and send it twice. One
 * send per lease leaves a 6× margin. (The socket timeout counts silence, so a server trickling
 * replies can stretch a send further; only a deadline on the whole send could bound that.)
 * Claiming one by one also lets stop() end a round early without stranding claimed messages.
 */
export class OutboxDispatcher {
  readonly #db: Database;
  readonly #transport: MailTransport;
  readonly #from: string;
  readonly #log: Logger;
  readonly #roundSize: number;
  readonly #maxAttempts: number;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #retryDelayMs: (attempts: number) => number;
  #draining: Promise<DrainResult> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopped = false;

  constructor(opts: DispatcherOptions) {
    this.#db = opts.db;
    this.#transport = opts.transport;
    this.#from = opts.from;
    this.#log = opts.logger;
    this.#roundSize = opts.roundSize ?? 20;
    this.#maxAttempts = opts.maxAttempts ?? 5;
    this.#pollIntervalMs = opts.pollIntervalMs ?? 5_000;
    this.#leaseMs = opts.leaseMs ?? 5 * 60_000;
    this.#retryDelayMs = opts.retryDelayMs ?? backoff;
  }

  /** One round: claim due messages one by one and try each once. Rounds never overlap. */
  drainOnce(): Promise<DrainResult> {
    this.#draining ??= this.#drain().finally(() => { this.#draining = null; });
    return this.#draining;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops polling; a round in progress ends after the message being sent, and is waited for. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#draining?.catch(() => undefined);
    this.#transport.close?.();
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    let full = false;
    try {
      full = (await this.drainOnce()).claimed >= this.#roundSize;
    } catch (err) {
      this.#log.error({ err }, 'outbox round failed');
    }
    // A full round suggests a backlog: go again at once instead of waiting.
    this.#schedule(full ? 0 : this.#pollIntervalMs);
  }

  async #drain(): Promise<DrainResult> {
    const result: DrainResult = { claimed: 0, sent: 0, retried: 0, failed: 0 };
    const tried: string[] = [];
    while (tried.length < this.#roundSize && !this.#stopped) {
      const message = await this.#db.asPlatform((em) => new OutboxRepository(em).claimNext(this.#leaseMs, tried));
      if (!message) break;
      tried.push(message.id);
      result.claimed++;
      try {
        result[await this.#deliver(message)]++;
      } catch (err) {
        // Could not record the outcome (database trouble): the lease runs out and it is retried.
        this.#log.error({ err, messageId: message.id }, 'outbox message left to its lease');
      }
    }
    return result;
  }

  async #deliver(message: ClaimedMessage): Promise<'sent' | 'retried' | 'failed'> {
    try {
      if (message.body === null) throw new Error('message has no body');
      await this.#transport.send({ from: this.#from, to: message.recipient, subject: message.subject, text: message.body });
    } catch (err) {
      return this.#recordFailure(message, describe(err));
    }
    await this.#db.asPlatform((em) => new OutboxRepository(em).markSent(message.id));
    this.#log.debug({ messageId: message.id }, 'mail sent');
    return 'sent';
  }

  async #recordFailure(message: ClaimedMessage, error: string): Promise<'retried' | 'failed'> {
    const final = message.attempts >= this.#maxAttempts;
    await this.#db.asPlatform((em) => {
      const outbox = new OutboxRepository(em);
      return final ? outbox.markFailed(message.id, error) : outbox.retryLater(message.id, error, this.#retryDelayMs(message.attempts));
    });
    if (final) this.#log.error({ messageId: message.id, attempts: message.attempts, error }, 'mail failed; giving up');
    else this.#log.warn({ messageId: message.id, attempts: message.attempts, error }, 'mail failed; will retry');
    return final ? 'failed' : 'retried';
  }
}

/** The app's dispatcher: SMTP when SMTP_URL is set, else the log-only transport. */
export function appOutboxDispatcher(config: Config, db: Database, logger: Logger): OutboxDispatcher {
  const transport = config.smtpUrl ? smtpTransport(config.smtpUrl) : logTransport(logger);
  return new OutboxDispatcher({ db, transport, from: config.mailFrom, logger: logger.child({ component: 'outbox' }) });
}
