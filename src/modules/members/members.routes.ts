import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { noContent, orgParams, roleKey, timestamp } from '../../http/schemas.ts';
import { membershipSources } from './membership.entity.ts';
import { MembersService } from './members.service.ts';

export const memberSchema = z.object({
  userId: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.string(),
  source: z.enum(membershipSources),
  joinedAt: timestamp,
  updatedAt: timestamp,
});

const memberParams = orgParams.extend({ userId: z.uuid() });

export function memberRoutes(services: ApiServices): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/orgs/:orgId/members', zone: 'org', tag: 'members', summary: 'List members',
      params: orgParams,
      query: pageQuery.extend({ role: roleKey.optional() }),
      responses: { 200: { description: 'A page of members', schema: pageSchema(memberSchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await new MembersService(ctx.state.scope, services).list(query) }),
    }),
    defineRoute({
      method: 'patch', path: '/orgs/:orgId/members/:userId', zone: 'org', tag: 'members', summary: 'Change a member\'s role',
      params: memberParams,
      body: z.strictObject({ role: roleKey }),
      responses: noContent,
      handler: async ({ params, body, ctx }) => {
        await new MembersService(ctx.state.scope, services).changeRole(params.userId, body.role);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/members/:userId', zone: 'org', tag: 'members', summary: 'Remove a member, or leave',
      params: memberParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await new MembersService(ctx.state.scope, services).remove(params.userId);
        return { status: 204 };
      },
    }),
  ];
}
