import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { name, noContent, orgParams, roleKey } from '../../http/schemas.ts';
import type { OrgScope } from '../scope.ts';
import { DirectoriesService } from './directories.service.ts';
import { directoryRuleRoutes } from './directory-rules.routes.ts';
import { createdDirectorySchema, directoryGroupSchema, directorySchema, directoryUserSchema, issuedTokenSchema } from './directory-view.ts';

const directoryParams = orgParams.extend({ id: z.uuid() });

/** The directories management API (issue 5 item 1): an org's SCIM endpoints and their tokens. */
export function directoryRoutes(services: ApiServices): RouteSpec[] {
  const { config, apiKeyTokens } = services;
  const service = (scope: OrgScope) => new DirectoriesService(scope, { publicUrl: config.publicUrl, apiKeyTokens, plans: services });
  return [
    defineRoute({
      method: 'post', path: '/orgs/:orgId/directories', zone: 'org', tag: 'directories',
      summary: 'Create a SCIM directory; the answer holds its base URL and bearer token, shown this once',
      params: orgParams,
      body: z.strictObject({ name, defaultRole: roleKey }),
      // Errors: 400 `request.invalid` (unknown role), 422 `directory.owner_role`, 403 `role.above_caller`.
      responses: { 201: { description: 'Created; give the IdP `scimBaseUrl` and `token`', schema: createdDirectorySchema } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await service(ctx.state.scope).create(body) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/directories', zone: 'org', tag: 'directories', summary: 'List the organization\'s SCIM directories',
      params: orgParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of directories (never their tokens)', schema: pageSchema(directorySchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await service(ctx.state.scope).list(query) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/directories/:id', zone: 'org', tag: 'directories', summary: 'One SCIM directory (whether its token is active, never the token)',
      params: directoryParams,
      responses: { 200: { description: 'The directory', schema: directorySchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await service(ctx.state.scope).get(params.id) }),
    }),
    defineRoute({
      method: 'patch', path: '/orgs/:orgId/directories/:id', zone: 'org', tag: 'directories',
      summary: 'Rename a directory or change its default role (its members\' roles are recomputed at once)',
      params: directoryParams,
      body: z.strictObject({ name: name.optional(), defaultRole: roleKey.optional() }),
      responses: { 200: { description: 'Updated', schema: directorySchema } },
      handler: async ({ params, body, ctx }) => ({ status: 200, body: await service(ctx.state.scope).update(params.id, body) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/directories/:id', zone: 'org', tag: 'directories',
      summary: 'Delete a directory with its users, groups and rules; the memberships of the people it linked stay (remove them as members if they should go)',
      params: directoryParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await service(ctx.state.scope).remove(params.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/directories/:id/token', zone: 'org', tag: 'directories',
      summary: 'Rotate the directory\'s bearer token: the new one is shown this once, the old one stops working at once',
      params: directoryParams,
      responses: { 201: { description: 'The new token', schema: issuedTokenSchema } },
      handler: async ({ params, ctx }) => ({ status: 201, body: await service(ctx.state.scope).rotateToken(params.id) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/directories/:id/token', zone: 'org', tag: 'directories',
      summary: 'Revoke the directory\'s token: the IdP is refused until a new one is issued',
      params: directoryParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await service(ctx.state.scope).revokeToken(params.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/directories/:id/users', zone: 'org', tag: 'directories', summary: 'The users the IdP pushed to a directory (read-only)',
      params: directoryParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of directory users', schema: pageSchema(directoryUserSchema) } },
      handler: async ({ params, query, ctx }) => ({ status: 200, body: await service(ctx.state.scope).users(params.id, query) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/directories/:id/groups', zone: 'org', tag: 'directories', summary: 'The groups the IdP pushed to a directory (read-only), to pick for rules',
      params: directoryParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of directory groups', schema: pageSchema(directoryGroupSchema) } },
      handler: async ({ params, query, ctx }) => ({ status: 200, body: await service(ctx.state.scope).groups(params.id, query) }),
    }),
    ...directoryRuleRoutes(services),
  ];
}
