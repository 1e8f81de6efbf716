import type { Config } from '../../../config/config.schema.ts';

// CONTRACT (helper B1 implements; keep these names and shapes). The plans, from GATEHOUSE_PLANS
// (YAML; config/plans.example.yaml ships free, starter, team, enterprise), validated at start-up.

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

export class PlanCatalog {
  /** Reads config.plansFile (or the shipped example) and checks config.defaultPlan exists; throws with every problem. */
  static load(_config: Config): PlanCatalog {
    throw new Error('not implemented');
  }

  /** The plan every org has while billing is off (GATEHOUSE_DEFAULT_PLAN). */
  get selfHosted(): Plan {
    throw new Error('not implemented');
  }

  /** The plan of an org without a subscription while billing is on. */
  get free(): Plan {
    throw new Error('not implemented');
  }

  get(_key: string): Plan | undefined {
    throw new Error('not implemented');
  }

  all(): readonly Plan[] {
    throw new Error('not implemented');
  }

  /** The first plan (in file order: cheapest first) that has the feature, for "plan.feature_unavailable" answers. */
  cheapestWith(_feature: Feature): Plan | undefined {
    throw new Error('not implemented');
  }
}
