import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { orgParams, timestamp } from '../../http/schemas.ts';
import type { OrgScope } from '../scope.ts';
import { ConnectionTestsService } from './connection-tests.service.ts';

const connectionParams = orgParams.extend({ id: z.uuid() });
const testParams = connectionParams.extend({ testId: z.uuid() });

const resultSchema = z.union([
  z.object({
    ok: z.literal(true), subject: z.string(), email: z.string(), givenName: z.string().nullable(), familyName: z.string().nullable(),
    groups: z.array(z.string()), attributes: z.record(z.string(), z.array(z.string())),
    role: z.string().describe('The role the connection\'s rules give this person'), ruleGroup: z.string().nullable().describe('The group whose rule gave the role; null: the default role'),
    teamIds: z.array(z.string()),
  }),
  z.object({ ok: z.literal(false), code: z.string().describe('The check that failed, e.g. saml.signature_invalid'), message: z.string() }),
]);

export const connectionTestSchema = z.object({
  id: z.uuid(),
  connectionId: z.uuid(),
  status: z.enum(['pending', 'started', 'passed', 'failed', 'expired']),
  result: resultSchema.nullable(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  expiresAt: timestamp,
});

/** Test sign-ins: a real sign-in at the IdP that signs nobody in and provisions nobody. */
export function connectionTestRoutes(services: ApiServices): RouteSpec[] {
  const service = (scope: OrgScope) => new ConnectionTestsService(scope, { plans: services, publicUrl: services.config.publicUrl });
  return [
    defineRoute({
      method: 'get', path: '/orgs/:orgId/connection-endpoints', zone: 'org', tag: 'connections',
      summary: 'The URLs an IdP needs for a connection id (ACS, entity id, SP metadata, OIDC redirect URI), before the connection exists: create it with that `id`',
      params: orgParams,
      query: z.strictObject({ id: z.uuid() }),
      responses: { 200: { description: 'The URLs', schema: z.object({ entityId: z.string(), acsUrl: z.string(), metadataUrl: z.string(), redirectUri: z.string() }) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: service(ctx.state.scope).endpoints(query.id) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/connections/:id/test', zone: 'org', tag: 'connections',
      summary: 'Start a test sign-in (active or not): open `startUrl` in a browser; after the IdP, every check runs as for a real sign-in, nobody is signed in or provisioned, and the browser returns to `returnTo?test=<id>`',
      params: connectionParams,
      body: z.strictObject({ returnTo: z.string().min(1).max(512).describe('A console path (/admin/...) of this Gatehouse') }),
      // Errors: 400 `request.invalid` (returnTo elsewhere), 404, 402 `plan.feature_unavailable`.
      responses: { 201: { description: 'The test, pending; `startUrl` works once, for 15 minutes', schema: connectionTestSchema.extend({ startUrl: z.string() }) } },
      handler: async ({ params, body, ctx }) => ({ status: 201, body: await service(ctx.state.scope).start(params.id, body.returnTo) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/connections/:id/test/:testId', zone: 'org', tag: 'connections',
      summary: 'A test sign-in\'s outcome: the attributes and groups that arrived and the role they map to, or the check that failed',
      params: testParams,
      responses: { 200: { description: 'The test', schema: connectionTestSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await service(ctx.state.scope).get(params.id, params.testId) }),
    }),
  ];
}
