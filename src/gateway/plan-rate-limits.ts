import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import { entitlementsOf } from '../modules/billing/entitlements.ts';
import type { PlanCatalog } from '../modules/billing/plans.ts';
import { OrgScope } from '../modules/scope.ts';
import { TokenBuckets } from './rate-limit.ts';

// Gateway rate limits from the org's plan (issue 7; billing on only: with billing off the
// self-hosted plan would suddenly limit deployments that set no GATEWAY_ORG_RATE_LIMIT), one
// instance per limit: the org's (gateway.orgRateLimit) and each API key's or service account's
// (gateway.keyRateLimit, the key's org's plan). The proxy's check is synchronous, so an org's
// rate comes from a per-node cache refreshed in the background: until the first look-up lands
// (and if it fails), the config's rate applies. A plan change reaches the gateway within
// `ttlMs`. Where both the plan and the config set a rate, the lower wins.

export interface PlanRateLimitsDeps {
  db: Database;
  plans: PlanCatalog;
  logger: Logger;
  /** Which of the plan's gateway limits this instance applies. */
  limit: 'orgRateLimit' | 'keyRateLimit';
  /** GATEWAY_ORG_RATE_LIMIT or GATEWAY_KEY_RATE_LIMIT, as `limit` (0: none). */
  configRate: number;
  ttlMs?: number;
  now?: () => number;
}

interface Known {
  rate: number;
  at: number;
}

const meta = { ip: null, userAgent: null, requestId: null };

export class PlanRateLimits {
  readonly #deps: PlanRateLimitsDeps;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #rates = new Map<string, Known>();
  readonly #loading = new Set<string>();
  /** One set of buckets per rate: an org whose rate changes starts a full bucket at the new rate. */
  readonly #buckets = new Map<number, TokenBuckets>();

  constructor(deps: PlanRateLimitsDeps) {
    this.#deps = deps;
    this.#ttlMs = deps.ttlMs ?? 30_000;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Like TokenBuckets.take: 0 when allowed, else the seconds until a token is there. `key` is the
   * bucket's (the org, or the API key); `orgId` whose plan sets its rate.
   */
  take(key: string, orgId = key): number {
    const known = this.#rates.get(orgId);
    if (!known || this.#now() - known.at > this.#ttlMs) this.#refresh(orgId);
    const rate = known?.rate ?? this.#deps.configRate;
    if (rate === 0) return 0;
    let buckets = this.#buckets.get(rate);
    if (!buckets) {
      buckets = new TokenBuckets(rate);
      this.#buckets.set(rate, buckets);
    }
    return buckets.take(key);
  }

  #refresh(orgId: string): void {
    if (this.#loading.has(orgId)) return;
    this.#loading.add(orgId);
    this.#planRate(orgId)
      .then((rate) => {
        if (this.#rates.size >= 100_000) this.#rates.delete(this.#rates.keys().next().value!);
        this.#rates.set(orgId, { rate, at: this.#now() });
      })
      .catch((err: unknown) => this.#deps.logger.warn({ err, orgId }, 'gateway: could not read the org\'s plan; its rate limit stays as it was'))
      .finally(() => this.#loading.delete(orgId));
  }

  async #planRate(orgId: string): Promise<number> {
    const { plan } = await this.#deps.db.inOrg(orgId, (em) => entitlementsOf(new OrgScope(orgId, em, null, meta), this.#deps.plans, true));
    const fromPlan = plan.gateway[this.#deps.limit];
    const fromConfig = this.#deps.configRate;
    if (fromPlan === 0 || fromConfig === 0) return Math.max(fromPlan, fromConfig);
    return Math.min(fromPlan, fromConfig);
  }
}
