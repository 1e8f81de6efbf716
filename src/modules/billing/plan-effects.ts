import { recordAudits } from '../audit/audit.recorder.ts';
import type { OrgScope } from '../scope.ts';
import { PlanEffectsRepository } from './plan-effects.repository.ts';
import type { Feature, Plan } from './plans.ts';

// What a plan change does to what the org already has (issue 7: "a downgrade never deletes").
// SSO connections (plan without sso) and SCIM directories (plan without scim) are marked
// plan_disabled_at, not removed: logins through them and their SCIM requests are refused, and a
// plan that allows them again clears the mark, so they work as before. The admin's own `active`
// switch is a separate thing and is left as it was.

const gated = [
  { feature: 'sso', table: 'connections', target: 'connection' },
  { feature: 'scim', table: 'directories', target: 'directory' },
] as const satisfies readonly { feature: Feature; table: string; target: string }[];

/**
 * Brings the scoped org's connections and directories in line with `plan`, audited in the
 * scope's transaction (one event per row changed). Idempotent: running it again with the same
 * plan changes and records nothing. Call it wherever the org's plan changes (subscription sync,
 * grace expiry) with the plan entitlementsOf now gives.
 */
export async function applyPlanEffects(scope: OrgScope, plan: Plan): Promise<void> {
  const repo = new PlanEffectsRepository(scope.em);
  for (const { feature, table, target } of gated) {
    const allowed = plan.features.has(feature);
    const ids = allowed ? await repo.enable(table, scope.orgId) : await repo.disable(table, scope.orgId);
    await recordAudits(scope, ids.map((id) => ({
      type: `${target}.${allowed ? 'plan_enabled' : 'plan_disabled'}`,
      target: { type: target, id },
      after: { plan: plan.key, disabledByPlan: !allowed },
    })));
  }
}

/** The hosted error page's words for a login through a connection the plan disabled. */
export const ssoDisabledByPlan = 'Single sign-on through this connection is turned off because your organization\'s plan does not include SSO. Contact your administrator.';
