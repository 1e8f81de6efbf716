import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Database } from '../db/database.ts';
import { requestMeta } from '../http/org-context.ts';
import { recordAudit } from '../modules/audit/audit.recorder.ts';
import { ssoDisabledByPlan } from '../modules/billing/plan-effects.ts';
import { PlanGate, type PlanDeps } from '../modules/billing/plan-gate.ts';
import type { Connection } from '../modules/connections/connection.entity.ts';
import { ConnectionTestsRepository, type ConnectionTestResult } from '../modules/connections/connection-tests.repository.ts';
import { OrgScope } from '../modules/scope.ts';
import { hostedPages } from '../oidc/interactions/flow.ts';
import { matchingRoleRule } from './jit.ts';
import { SsoError, ssoRejections, type SsoDeps, type SsoEdge } from './sso-edge.ts';
import type { SsoProfile } from './sso-profile.ts';
import type { SsoRequestsRepository } from './sso-requests.repository.ts';

// Test sign-ins (the console's "test the connection"). The API starts one (connection-tests.service.ts);
// its link, below, sends the browser to the IdP with a request marked as the test's; the edges
// run every check of a real sign-in on the answer, and then, in place of provisioning and
// signing in, the outcome is stored in the test and the browser goes back to the console.

/** What the org's rules would make of this person: the role (plan allowing) and teams, as jit.ts decides them. */
async function preview(gate: PlanGate, connection: Connection, profile: SsoProfile): Promise<ConnectionTestResult> {
  if (!(await gate.entitlements()).plan.features.has('sso')) return { ok: false, code: 'plan.feature_unavailable', message: ssoDisabledByPlan };
  const rule = matchingRoleRule(connection.roleRules, profile.groups);
  const ruled = rule && (await gate.allowsRole(rule.role)) ? rule : null;
  return {
    ok: true, subject: profile.subject, email: profile.email, givenName: profile.givenName, familyName: profile.familyName,
    groups: profile.groups, attributes: profile.attributes ?? {},
    role: ruled?.role ?? connection.defaultRole, ruleGroup: ruled?.group ?? null,
    teamIds: connection.roleRules.flatMap((r) => ('teamId' in r && profile.groups.includes(r.group) ? [r.teamId] : [])),
  };
}

/** The end of a test sign-in at the edges: its outcome stored in the connection's org, the browser back to the console. */
export class SsoTestOutcomes {
  readonly #db: Database;
  readonly #requests: SsoRequestsRepository;
  readonly #plans: PlanDeps;

  constructor(db: Database, requests: SsoRequestsRepository, plans: PlanDeps) {
    this.#db = db;
    this.#requests = requests;
    this.#plans = plans;
  }

  /** Every check passed: what arrived, and the role it maps to. Nobody is signed in or provisioned. */
  async passed(ctx: Context, connection: Connection, testId: string, profile: SsoProfile): Promise<void> {
    await this.#finish(ctx, connection, testId, async (gate) => preview(gate, connection, profile));
  }

  /**
   * A check failed on the answer to request `requestId`: when that is a test's unanswered
   * request, the failure is the test's outcome (true); otherwise the caller shows its error page.
   */
  async failed(ctx: Context, connection: Connection, requestId: string | null, err: SsoError): Promise<boolean> {
    const testId = requestId ? await this.#requests.answerTest(requestId, connection.type, connection.id) : null;
    if (!testId) return false;
    await this.abandoned(ctx, connection, testId, err);
    return true;
  }

  /** The test ends with `err` as its outcome. */
  async abandoned(ctx: Context, connection: Connection, testId: string, err: SsoError): Promise<void> {
    ctx.state.log?.info({ code: err.code, connectionId: connection.id, testId }, 'SSO test sign-in failed a check');
    await this.#finish(ctx, connection, testId, async () => ({ ok: false, code: err.code, message: err.message }));
  }

  async #finish(ctx: Context, connection: Connection, testId: string, outcome: (gate: PlanGate) => Promise<ConnectionTestResult>): Promise<void> {
    const returnTo = await this.#db.inOrg(connection.orgId, async (em) => {
      const scope = new OrgScope(connection.orgId, em, null, requestMeta(ctx));
      const result = await outcome(new PlanGate(scope, this.#plans));
      const row = await new ConnectionTestsRepository(em).finish(testId, result);
      if (!row) throw new SsoError(409, 'sso.test_finished', 'This test sign-in has ended already. Start a new test from the console.');
      await recordAudit(scope, {
        type: 'connection.tested', target: { type: 'connection', id: connection.id },
        after: result.ok ? { testId, ok: true, email: result.email, role: result.role, groups: result.groups } : { testId, ok: false, code: result.code },
      });
      return row.return_to;
    });
    ctx.status = 303;
    ctx.redirect(`${returnTo}?test=${encodeURIComponent(testId)}`);
  }
}

const uuid = z.uuid();

/** GET /sso/test/:connectionId/:testId: the link a test's start answered with; works once, until the test expires. */
export function ssoTestRoutes(deps: SsoDeps, edges: { saml: SsoEdge; oidc: SsoEdge }): Router {
  const router = new Router({ prefix: '/sso/test' });
  router.use(hostedPages(), ssoRejections());
  router.get('/:connectionId/:testId', async (ctx) => {
    const ids = [ctx.params.connectionId, ctx.params.testId].map((v) => uuid.safeParse(v));
    const connection = ids.every((r) => r.success) ? await deps.platform.findConnection(ctx.params.connectionId!) : null;
    // Active or not: a test signs nobody in (sso-logins.ts lets an inactive connection answer tests only).
    if (!connection || connection.planDisabledAt) throw new SsoError(404, 'sso.test_unknown', 'This test sign-in link is not valid, or SSO is off in the organization\'s plan.');
    const test = await deps.db.inOrg(connection.orgId, (em) => new ConnectionTestsRepository(em).claimStart(ctx.params.testId!, connection.id));
    if (!test) throw new SsoError(410, 'sso.test_used', 'This test sign-in link was used already or has expired. Start a new test from the console.');
    try {
      await edges[connection.type].start(ctx, connection, null, test.id);
    } catch (err) {
      // The IdP could not be reached (discovery, a misconfigured connection): that is the outcome.
      if (!(err instanceof SsoError)) throw err;
      await deps.logins.tests.abandoned(ctx, connection, test.id, err);
    }
  });
  return router;
}
