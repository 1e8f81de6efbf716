import type { Logger } from 'pino';
import { FlushTimer } from './flush-timer.ts';
import type { Database } from '../db/database.ts';
import { recordAudit } from '../modules/audit/audit.recorder.ts';
import { OrgScope, type RequestMeta } from '../modules/scope.ts';

export type DenialReason = 'unauthenticated' | 'forbidden' | 'not_found' | 'rate_limited' | 'bad_request';

export interface DenialSample {
  method: string;
  path: string;
  credential?: { type: string; id: string };
  ip: string | null;
}

export interface DenialLogOptions {
  flushMs?: number;
  /** Samples kept per org and interval (the first ones); the counts are always complete. */
  samplesPerOrg?: number;
}

interface Tally {
  count: number;
  byReason: Partial<Record<DenialReason, number>>;
  samples: Array<DenialSample & { at: string }>;
}

export const denialAuditType = 'gateway.denied';
const maxPathLength = 256;
const maxOrgsPerFlush = 10_000;
const systemMeta: RequestMeta = { ip: null, userAgent: null, requestId: null };

/**
 * Gateway denials in the audit trail without an event per request (issue 6): each denial adds
 * to its org's count for the interval and, while there is room, keeps a sample; each flush writes
 * one `gateway.denied` event per org that had any, with the system as the actor. Denials that
 * name no org (no credential, an unknown one) belong to no org's trail: a summary goes to the log.
 */
export class DenialLog {
  readonly #db: Database;
  readonly #log: Logger;
  readonly #samplesPerOrg: number;
  #tallies = new Map<string | null, Tally>();
  readonly #timer: FlushTimer;

  constructor(deps: { db: Database; logger: Logger }, opts: DenialLogOptions = {}) {
    this.#db = deps.db;
    this.#log = deps.logger;
    this.#timer = new FlushTimer(() => this.#flush(), opts.flushMs ?? 60_000);
    this.#samplesPerOrg = opts.samplesPerOrg ?? 10;
  }

  record(orgId: string | null, reason: DenialReason, sample: DenialSample): void {
    // Bounded: past this many orgs in one interval, the rest are only told to the log.
    if (orgId !== null && this.#tallies.size >= maxOrgsPerFlush && !this.#tallies.has(orgId)) orgId = null;
    let tally = this.#tallies.get(orgId);
    if (!tally) {
      tally = { count: 0, byReason: {}, samples: [] };
      this.#tallies.set(orgId, tally);
    }
    tally.count++;
    tally.byReason[reason] = (tally.byReason[reason] ?? 0) + 1;
    if (tally.samples.length < this.#samplesPerOrg) tally.samples.push(sampleOf(sample));
  }

  start(): void {
    this.#timer.start();
  }

  /** Writes what was recorded so far (one flush at a time). */
  flushOnce(): Promise<void> {
    return this.#timer.flushOnce();
  }

  stop(): Promise<void> {
    return this.#timer.stop();
  }

  async #flush(): Promise<void> {
    const tallies = this.#tallies;
    this.#tallies = new Map();
    for (const [orgId, tally] of tallies) {
      if (orgId === null) {
        this.#log.info({ denials: tally }, 'gateway: denials without an org');
        continue;
      }
      try {
        await this.#db.inOrg(orgId, (em) => recordAudit(new OrgScope(orgId, em, null, systemMeta), { type: denialAuditType, after: tally }));
      } catch (err) {
        // The org may be gone; the denials are still told, to the log.
        this.#log.warn({ err, orgId, denials: tally }, 'gateway: denials could not be audited');
      }
    }
  }
}

function sampleOf(sample: DenialSample): DenialSample & { at: string } {
  return {
    method: sample.method.slice(0, 16),
    path: sample.path.length > maxPathLength ? `${sample.path.slice(0, maxPathLength)}…` : sample.path,
    ...(sample.credential ? { credential: { type: sample.credential.type, id: sample.credential.id } } : {}),
    ip: sample.ip,
    at: new Date().toISOString(),
  };
}
