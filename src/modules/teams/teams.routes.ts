import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { name, noContent, orgParams, timestamp } from '../../http/schemas.ts';
import { teamRoles } from './team.entity.ts';
import { TeamMembersService } from './team-members.service.ts';
import { TeamsService } from './teams.service.ts';

export const teamSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const teamMemberSchema = z.object({
  userId: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(teamRoles),
  joinedAt: timestamp,
  updatedAt: timestamp,
});

const description = z.string().trim().max(1000);
const teamParams = orgParams.extend({ teamId: z.uuid() });
const teamMemberParams = teamParams.extend({ userId: z.uuid() });
const teamRole = z.enum(teamRoles);

export function teamRoutes(services: ApiServices): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/orgs/:orgId/teams', zone: 'org', tag: 'teams', summary: 'List teams',
      params: orgParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of teams', schema: pageSchema(teamSchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await new TeamsService(ctx.state.scope, services).list(query) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/teams', zone: 'org', tag: 'teams', summary: 'Create a team',
      params: orgParams,
      body: z.strictObject({ name, description: description.optional() }),
      responses: { 201: { description: 'Created', schema: teamSchema } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await new TeamsService(ctx.state.scope, services).create(body) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/teams/:teamId', zone: 'org', tag: 'teams', summary: 'Get a team',
      params: teamParams,
      responses: { 200: { description: 'The team', schema: teamSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new TeamsService(ctx.state.scope, services).get(params.teamId) }),
    }),
    defineRoute({
      method: 'patch', path: '/orgs/:orgId/teams/:teamId', zone: 'org', tag: 'teams', summary: 'Rename a team or change its description',
      params: teamParams,
      body: z
        .strictObject({ name: name.optional(), description: description.nullable().optional() })
        .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
      responses: { 200: { description: 'Updated', schema: teamSchema } },
      handler: async ({ params, body, ctx }) => ({ status: 200, body: await new TeamsService(ctx.state.scope, services).update(params.teamId, body) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/teams/:teamId', zone: 'org', tag: 'teams', summary: 'Delete a team (its people stay in the org)',
      params: teamParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await new TeamsService(ctx.state.scope, services).delete(params.teamId);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/teams/:teamId/members', zone: 'org', tag: 'teams', summary: 'List a team\'s members',
      params: teamParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of team members', schema: pageSchema(teamMemberSchema) } },
      handler: async ({ params, query, ctx }) => ({ status: 200, body: await new TeamMembersService(ctx.state.scope).list(params.teamId, query) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/teams/:teamId/members', zone: 'org', tag: 'teams', summary: 'Add an org member to a team',
      params: teamParams,
      body: z.strictObject({ userId: z.uuid(), role: teamRole }),
      responses: { 201: { description: 'Added', schema: teamMemberSchema } },
      handler: async ({ params, body, ctx }) => ({ status: 201, body: await new TeamMembersService(ctx.state.scope, services).add(params.teamId, body) }),
    }),
    defineRoute({
      method: 'patch', path: '/orgs/:orgId/teams/:teamId/members/:userId', zone: 'org', tag: 'teams', summary: 'Change a team member\'s role',
      params: teamMemberParams,
      body: z.strictObject({ role: teamRole }),
      responses: noContent,
      handler: async ({ params, body, ctx }) => {
        await new TeamMembersService(ctx.state.scope).changeRole(params.teamId, params.userId, body.role);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/teams/:teamId/members/:userId', zone: 'org', tag: 'teams', summary: 'Remove a member from a team',
      params: teamMemberParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await new TeamMembersService(ctx.state.scope).remove(params.teamId, params.userId);
        return { status: 204 };
      },
    }),
  ];
}
