import { z } from 'zod';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { noContent, orgParams, roleKey } from '../../http/schemas.ts';
import type { PlanDeps } from '../billing/plan-gate.ts';
import { DirectoryRulesService } from './directory-rules.service.ts';
import { ruleSchema } from './directory-view.ts';

const directoryParams = orgParams.extend({ id: z.uuid() });
const ruleParams = directoryParams.extend({ ruleId: z.uuid() });

const ruleBody = z.union([
  z.strictObject({ groupId: z.uuid(), role: roleKey }),
  z.strictObject({ groupId: z.uuid(), teamId: z.uuid() }),
]);

/** Group → role and group → team rules of a directory (highest role wins). */
export function directoryRuleRoutes(services: PlanDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/orgs/:orgId/directories/:id/rules', zone: 'org', tag: 'directories', summary: 'A directory\'s group rules',
      params: directoryParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of rules', schema: pageSchema(ruleSchema) } },
      handler: async ({ params, query, ctx }) => ({ status: 200, body: await new DirectoryRulesService(ctx.state.scope, services).list(params.id, query) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/directories/:id/rules', zone: 'org', tag: 'directories',
      summary: 'Give a directory group\'s members a role (`role`) or a team (`teamId`); the group\'s members are re-levelled at once',
      params: directoryParams,
      body: ruleBody,
      // Errors: 400 `request.invalid` (group not of this directory, unknown role or team),
      // 422 `directory.owner_role`, 409 `directory.rule_exists`, 402 `plan.feature_unavailable` (a
      // role not on the plan), 402 `plan.seat_limit` (the rule would make members past the seats).
      responses: { 201: { description: 'The rule', schema: ruleSchema } },
      handler: async ({ params, body, ctx }) => ({ status: 201, body: await new DirectoryRulesService(ctx.state.scope, services).add(params.id, body) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/directories/:id/rules/:ruleId', zone: 'org', tag: 'directories',
      summary: 'Remove a group rule; the group\'s members are re-levelled at once',
      params: ruleParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await new DirectoryRulesService(ctx.state.scope, services).remove(params.id, params.ruleId);
        return { status: 204 };
      },
    }),
  ];
}
