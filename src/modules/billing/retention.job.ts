import type { Logger } from 'pino';
import type { Database } from '../../db/database.ts';
import { PeriodicJob } from '../../db/periodic-job.ts';
import { pruneAuditBatch } from '../audit/audit-retention.ts';
import { OrgScope } from '../scope.ts';
import { entitlementsOf } from './entitlements.ts';
import type { PlanCatalog } from './plans.ts';
import { retentionInForce } from './retention-holds.ts';
import { RetentionHoldsRepository } from './retention-holds.repository.ts';
import { orgIdsPage } from './retention.repository.ts';

const dayMs = 24 * 3600 * 1000;
const orgPageSize = 500;
const systemMeta = { ip: null, userAgent: null, requestId: null };

export interface RetentionJobOptions {
  db: Database;
  logger: Logger;
  plans: PlanCatalog;
  /** Whether Stripe billing is on (ApiServices.billing): which plan an org has. */
  billing: boolean;
  /** Wait between runs. */
  intervalMs?: number;
  /** GATEHOUSE_RETENTION_DOWNGRADE_DAYS: how long a shorter retention waits (retention-holds.ts). */
  downgradeDays: number;
  /** Events deleted per transaction: small batches keep the chain head's lock short. */
  batchSize?: number;
}

export interface RetentionResult {
  /** Orgs that had events deleted. */
  orgs: number;
  deleted: number;
}

/**
 * Deletes each org's audit events older than its plan's auditRetentionDays (null: kept), oldest
 * first, in batches, each batch with its checkpoint and its `audit.retention_applied` event
 * (audit-retention.ts). Every node runs it: a batch skips an org another node holds (SKIP
 * LOCKED). SSO and SCIM activity is recorded as audit events, so it goes with them; expired OIDC
 * artifacts, SSO requests and replay-cache entries are the expiry sweeper's (src/oidc/expiry-sweeper.ts).
 */
export class RetentionJob {
  readonly #opts: RetentionJobOptions;
  readonly #batchSize: number;
  readonly #job: PeriodicJob<RetentionResult>;

  constructor(opts: RetentionJobOptions) {
    this.#opts = opts;
    this.#batchSize = opts.batchSize ?? 1_000;
    this.#job = new PeriodicJob({
      name: 'audit retention', intervalMs: opts.intervalMs ?? 3_600_000, logger: opts.logger,
      run: () => this.#run(), summary: (r) => (r.deleted > 0 ? { ...r } : null),
    });
  }

  /** One run over every org; resolves to what it deleted. */
  runOnce(): Promise<RetentionResult> {
    return this.#job.runOnce();
  }

  start(): void {
    this.#job.start();
  }

  /** Stops the timer and waits for a run in progress (it ends after its current batch). */
  stop(): Promise<void> {
    return this.#job.stop();
  }

  async #run(): Promise<RetentionResult> {
    const result: RetentionResult = { orgs: 0, deleted: 0 };
    let after: string | null = null;
    for (;;) {
      const ids = await orgIdsPage(this.#opts.db, after, orgPageSize);
      for (const orgId of ids) {
        if (this.#job.stopping) return result;
        const deleted = await this.#org(orgId);
        if (deleted > 0) result.orgs++;
        result.deleted += deleted;
      }
      if (ids.length < orgPageSize) return result;
      after = ids.at(-1)!;
    }
  }

  /** One org, batch after batch until one comes back short. */
  async #org(orgId: string): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.#opts.db.inOrg(orgId, (em) => this.#batch(new OrgScope(orgId, em, null, systemMeta)));
      total += deleted;
      if (deleted < this.#batchSize || this.#job.stopping) return total;
    }
  }

  /**
   * The plan is read in the batch's transaction: an upgrade counts at once; a shorter retention
   * only after the downgrade delay (retention-holds.ts).
   */
  async #batch(scope: OrgScope): Promise<number> {
    const { plan } = await entitlementsOf(scope, this.#opts.plans, this.#opts.billing);
    const holds = new RetentionHoldsRepository(scope.em);
    const { days, save } = retentionInForce(await holds.find(scope.orgId), plan.auditRetentionDays, new Date(), this.#opts.downgradeDays);
    if (save) await holds.save(scope.orgId, save);
    if (days === null) return 0;
    const before = new Date(Date.now() - days * dayMs);
    return (await pruneAuditBatch(scope, before, this.#batchSize)) ?? 0;
  }
}
