import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../../config/config.loader.ts';
import type { Config } from '../../../config/config.schema.ts';
import { builtinRoleKeys } from '../roles/permissions.ts';

// The plans, from GATEHOUSE_PLANS (YAML; config/plans.example.yaml ships free, starter, team,
// enterprise), validated at start-up: a mistake in the file stops the process with every problem
// listed, never a half-understood catalogue that gates the wrong things.

export const features = ['custom_roles', 'teams', 'sso', 'scim', 'setup_links', 'audit_export'] as const;
export type Feature = (typeof features)[number];

export interface Plan {
  readonly key: string;
  readonly name: string;
  /** The Stripe price a Checkout Session subscribes to; null for plans not sold through Stripe (free). */
  readonly stripePriceId: string | null;
  /** Members plus pending invitations; null: no limit. */
  readonly seats: number | null;
  readonly features: ReadonlySet<Feature>;
  /** The built-in roles members may be given (free: owner only; starter: +admin, member; team: +viewer). */
  readonly roles: ReadonlySet<string>;
  /** Audit events (and SSO/SCIM logs) older than this are deleted; null: kept forever. */
  readonly auditRetentionDays: number | null;
  /** Gateway token buckets, requests per second (0: none). */
  readonly gateway: { readonly orgRateLimit: number; readonly keyRateLimit: number };
  /** Active (unrevoked, unexpired) API keys per org; null: no limit. */
  readonly apiKeyLimit: number | null;
}

const shippedPlans = fileURLToPath(new URL('../../../config/plans.example.yaml', import.meta.url));
const limit = z.number().int().min(0);

const planSchema = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'lowercase letters, digits, - and _'),
  name: z.string().trim().min(1).max(100),
  stripePriceId: z.string().regex(/^price_[A-Za-z0-9_]+$/, 'must be a Stripe price id (price_...)').nullable(),
  seats: z.number().int().min(1).nullable(),
  features: z.array(z.enum(features)),
  roles: z.array(z.enum(builtinRoleKeys)).refine((r) => r.includes('owner'), 'must include owner (every org has one)'),
  auditRetentionDays: z.number().int().min(1).nullable(),
  gateway: z.strictObject({ orgRateLimit: limit, keyRateLimit: limit }),
  apiKeyLimit: limit.nullable(),
});

const fileSchema = z.strictObject({ plans: z.array(planSchema).min(1) });

/** A configuration error (the plans file is configuration); each problem names the file. */
export class PlanCatalogError extends ConfigError {
  constructor(source: string, problems: string[]) {
    super(problems.map((p) => `GATEHOUSE_PLANS ${source}: ${p}`));
  }
}

function readPlansFile(path: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PlanCatalogError(path, [(err as Error).message]);
  }
}

function toPlan(raw: z.infer<typeof planSchema>): Plan {
  return Object.freeze({
    ...raw,
    features: new Set(raw.features),
    roles: new Set<string>(raw.roles),
    gateway: Object.freeze({ ...raw.gateway }),
  });
}

/** Problems a schema cannot see: duplicates, and the plans the rest of Gatehouse names. */
function catalogueProblems(plans: readonly Plan[], defaultPlan: string): string[] {
  const problems: string[] = [];
  const keys = plans.map((p) => p.key);
  const prices = plans.flatMap((p) => (p.stripePriceId ? [p.stripePriceId] : []));
  for (const key of new Set(keys.filter((k, i) => keys.indexOf(k) !== i))) problems.push(`plans: the key "${key}" is used twice`);
  for (const price of new Set(prices.filter((k, i) => prices.indexOf(k) !== i))) problems.push(`plans: the price "${price}" is used twice`);
  if (!keys.includes('free')) problems.push('plans: a plan keyed "free" is required (orgs without a subscription have it while billing is on)');
  if (!keys.includes(defaultPlan)) problems.push(`defaultPlan: GATEHOUSE_DEFAULT_PLAN "${defaultPlan}" is not a plan in the file`);
  return problems;
}

export class PlanCatalog {
  readonly #plans: readonly Plan[];
  readonly #selfHosted: Plan;

  private constructor(plans: readonly Plan[], defaultPlan: string) {
    this.#plans = plans;
    this.#selfHosted = plans.find((p) => p.key === defaultPlan)!;
  }

  /** Reads config.plansFile (or the shipped example) and checks config.defaultPlan exists; throws with every problem. */
  static load(config: Pick<Config, 'plansFile' | 'defaultPlan'>): PlanCatalog {
    const source = config.plansFile ?? shippedPlans;
    return PlanCatalog.parse(readPlansFile(source), config.defaultPlan, source);
  }

  /** Validates an already parsed document (tests, and load). */
  static parse(document: unknown, defaultPlan: string, source = 'plans'): PlanCatalog {
    const result = fileSchema.safeParse(document);
    if (!result.success) {
      throw new PlanCatalogError(source, result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
    }
    const plans = Object.freeze(result.data.plans.map(toPlan));
    const problems = catalogueProblems(plans, defaultPlan);
    if (problems.length) throw new PlanCatalogError(source, problems);
    return new PlanCatalog(plans, defaultPlan);
  }

  /** The plan every org has while billing is off (GATEHOUSE_DEFAULT_PLAN). */
  get selfHosted(): Plan {
    return this.#selfHosted;
  }

  /** The plan of an org without a subscription while billing is on. */
  get free(): Plan {
    return this.get('free')!;
  }

  get(key: string): Plan | undefined {
    return this.#plans.find((p) => p.key === key);
  }

  all(): readonly Plan[] {
    return this.#plans;
  }

  /** The first plan (in file order: cheapest first) that has the feature, for "plan.feature_unavailable" answers. */
  cheapestWith(feature: Feature): Plan | undefined {
    return this.#plans.find((p) => p.features.has(feature));
  }
}
