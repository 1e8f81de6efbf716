import type { EntityManager } from '@mikro-orm/sql';
import type { Database } from '../db/database.ts';
import { orgEntitlements, type PlanDeps } from '../modules/billing/plan-gate.ts';
import type { GrantOrgRow } from '../modules/platform/platform.repository.ts';
import { MembersRepository } from '../modules/members/members.repository.ts';
import { OrgsRepository } from '../modules/orgs/orgs.repository.ts';
import { rolePermissions, type ProductPermissions } from '../modules/roles/product-permissions.ts';
import { RolesRepository } from '../modules/roles/roles.repository.ts';
import { OrgScope } from '../modules/scope.ts';
import { TeamsRepository } from '../modules/teams/teams.repository.ts';

export interface OrgClaims {
  org_id: string;
  org_slug: string;
  org_role: string;
  permissions: string[];
  teams: string[];
  /** The org's plan now (issue 7): what the org may use, for services that gate on it themselves. */
  plan: string;
  features: string[];
}

/**
 * What a user's tokens say about one org (DESIGN.md contracts): read in that org's transaction,
 * at the moment of issue, so a changed role or a removal shows in the next token. Null when the
 * user is no longer a member. `permissions` holds the product's too (the route policy's for a
 * built-in role, the stored ones for a custom role). `plan` and `features` are the org's
 * entitlements at issue, read like the role: a plan change shows in the next token.
 */
export function orgClaimsOf(db: Database, orgId: string, userId: string, product: ProductPermissions, plans: PlanDeps): Promise<OrgClaims | null> {
  return db.inOrg(orgId, async (em) => {
    const org = await new OrgsRepository(em).find(orgId);
    const membership = await new MembersRepository(em).findByUser(userId);
    if (!org || !membership) return null;
    const custom = await new RolesRepository(em).findByKey(membership.role);
    const teams = await new TeamsRepository(em).membershipsOf(userId);
    return {
      org_id: org.id,
      org_slug: org.slug,
      org_role: membership.role,
      permissions: [...rolePermissions(membership.role, custom?.permissions ?? null, product)],
      teams: teams.map((t) => t.teamId),
      ...(await planClaimsIn(orgId, em, plans)),
    };
  });
}

async function planClaimsIn(orgId: string, em: EntityManager, plans: PlanDeps): Promise<Pick<OrgClaims, 'plan' | 'features'>> {
  const { plan } = await orgEntitlements(new OrgScope(orgId, em, null, { ip: null, userAgent: null, requestId: null }), plans);
  return { plan: plan.key, features: [...plan.features].sort() };
}

/**
 * The org's `plan` and `features` claims alone (a service account's token: it has no membership
 * to read), read at issue in the org's transaction like a user's.
 */
export function planClaimsOf(db: Database, orgId: string, plans: PlanDeps): Promise<Pick<OrgClaims, 'plan' | 'features'>> {
  return db.inOrg(orgId, (em) => planClaimsIn(orgId, em, plans));
}

/**
 * The org claims of a grant's tokens. A token response asks for them more than once (ID token,
 * access token), so they are looked up once per request; an org switch names, for its request,
 * the org the grant is about to act in.
 */
export class GrantClaims {
  readonly #db: Database;
  readonly #findGrantOrg: (grantId: string) => Promise<GrantOrgRow | null>;
  readonly #product: ProductPermissions;
  readonly #plans: PlanDeps;
  readonly #byRequest = new WeakMap<object, Map<string, Promise<OrgClaims | undefined>>>();

  constructor(db: Database, findGrantOrg: (grantId: string) => Promise<GrantOrgRow | null>, product: ProductPermissions, plans: PlanDeps) {
    this.#db = db;
    this.#findGrantOrg = findGrantOrg;
    this.#product = product;
    this.#plans = plans;
  }

  of(request: object, grantId: string): Promise<OrgClaims | undefined> {
    const seen = this.#seen(request);
    if (!seen.has(grantId)) seen.set(grantId, this.#lookUp(grantId));
    return seen.get(grantId)!;
  }

  /** For this request only: the grant's tokens speak for `orgId` (the switch then records it). */
  switchTo(request: object, grantId: string, orgId: string, userId: string): void {
    this.#seen(request).set(grantId, orgClaimsOf(this.#db, orgId, userId, this.#product, this.#plans).then((claims) => claims ?? undefined));
  }

  #seen(request: object): Map<string, Promise<OrgClaims | undefined>> {
    const seen = this.#byRequest.get(request) ?? new Map<string, Promise<OrgClaims | undefined>>();
    this.#byRequest.set(request, seen);
    return seen;
  }

  async #lookUp(grantId: string): Promise<OrgClaims | undefined> {
    const grantOrg = await this.#findGrantOrg(grantId);
    if (!grantOrg) return undefined;
    return (await orgClaimsOf(this.#db, grantOrg.org_id, grantOrg.user_id, this.#product, this.#plans)) ?? undefined;
  }
}
