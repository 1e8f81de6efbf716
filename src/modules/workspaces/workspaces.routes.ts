import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { name, noContent, orgParams, timestamp } from '../../http/schemas.ts';
import { WorkspaceLimitsService } from './workspace-limits.service.ts';
import { WorkspacesService } from './workspaces.service.ts';

export const workspaceSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const workspaceLimitsSchema = z.object({
  limited: z.boolean(),
  workspaceIds: z.array(z.uuid()).nullable(),
});

const workspaceParams = orgParams.extend({ workspaceId: z.uuid() });
const memberParams = orgParams.extend({ userId: z.uuid() });

export function workspaceRoutes(_services: ApiServices): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/orgs/:orgId/workspaces', zone: 'org', tag: 'workspaces', summary: 'List workspaces',
      params: orgParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of workspaces', schema: pageSchema(workspaceSchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await new WorkspacesService(ctx.state.scope).list(query) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/workspaces', zone: 'org', tag: 'workspaces', summary: 'Create a workspace (names are unique in the org, ignoring case)',
      params: orgParams,
      body: z.strictObject({ name }),
      responses: { 201: { description: 'Created', schema: workspaceSchema } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await new WorkspacesService(ctx.state.scope).create(body) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/workspaces/:workspaceId', zone: 'org', tag: 'workspaces', summary: 'Get a workspace',
      params: workspaceParams,
      responses: { 200: { description: 'The workspace', schema: workspaceSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new WorkspacesService(ctx.state.scope).get(params.workspaceId) }),
    }),
    defineRoute({
      method: 'patch', path: '/orgs/:orgId/workspaces/:workspaceId', zone: 'org', tag: 'workspaces', summary: 'Rename a workspace',
      params: workspaceParams,
      body: z.strictObject({ name }),
      responses: { 200: { description: 'Renamed', schema: workspaceSchema } },
      handler: async ({ params, body, ctx }) => ({ status: 200, body: await new WorkspacesService(ctx.state.scope).rename(params.workspaceId, body.name) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/workspaces/:workspaceId', zone: 'org', tag: 'workspaces',
      summary: 'Delete a workspace: the API keys and service accounts bound to it are deleted with it (revoked at once); members limited to it lose it',
      params: workspaceParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await new WorkspacesService(ctx.state.scope).delete(params.workspaceId);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/members/:userId/workspaces', zone: 'org', tag: 'workspaces',
      summary: 'The workspaces a member reaches (`workspaceIds` null: every one)',
      params: memberParams,
      responses: { 200: { description: 'The member\'s limits', schema: workspaceLimitsSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new WorkspaceLimitsService(ctx.state.scope).get(params.userId) }),
    }),
    defineRoute({
      method: 'put', path: '/orgs/:orgId/members/:userId/workspaces', zone: 'org', tag: 'workspaces',
      summary: 'Limit a member to exactly the listed workspaces (an empty list: none), or lift the limit (`workspaceIds: null`: every workspace)',
      params: memberParams,
      body: z.strictObject({ workspaceIds: z.array(z.uuid()).max(1000).nullable() }),
      responses: { 200: { description: 'The member\'s limits now', schema: workspaceLimitsSchema } },
      handler: async ({ params, body, ctx }) => ({ status: 200, body: await new WorkspaceLimitsService(ctx.state.scope).set(params.userId, body.workspaceIds) }),
    }),
  ];
}
