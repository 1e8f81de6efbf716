import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { noContent, orgParams } from '../../http/schemas.ts';
import type { OrgScope } from '../scope.ts';
import { createConnectionBody, updateConnectionBody } from './connection-input.ts';
import { connectionTestRoutes } from './connection-tests.routes.ts';
import { connectionSchema } from './connection-view.ts';
import { ConnectionsService } from './connections.service.ts';

const connectionParams = orgParams.extend({ id: z.uuid() });

export function connectionRoutes(services: ApiServices): RouteSpec[] {
  const { config, secrets } = services;
  const service = (scope: OrgScope) => new ConnectionsService(scope, { publicUrl: config.publicUrl, secrets, production: config.env === 'production', plans: services });
  return [
    defineRoute({
      method: 'post', path: '/orgs/:orgId/connections', zone: 'org', tag: 'connections',
      summary: 'Connect an IdP over SAML (metadata XML, metadata URL, or entity id + SSO URL + certificates) or OIDC',
      params: orgParams,
      body: createConnectionBody,
      // Errors: 400 `request.invalid` (bad metadata, role, team, source), 422 `connection.metadata_unreachable`.
      responses: { 201: { description: 'Created; `sp` (SAML) or `redirectUri` (OIDC) is what the IdP needs. Secrets are never returned', schema: connectionSchema } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await service(ctx.state.scope).create(body) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/connections', zone: 'org', tag: 'connections', summary: 'List the organization\'s SSO connections',
      params: orgParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of connections', schema: pageSchema(connectionSchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await service(ctx.state.scope).list(query) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/connections/:id', zone: 'org', tag: 'connections', summary: 'One SSO connection, with its IdP certificates\' expiry',
      params: connectionParams,
      responses: { 200: { description: 'The connection', schema: connectionSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await service(ctx.state.scope).get(params.id) }),
    }),
    defineRoute({
      method: 'patch', path: '/orgs/:orgId/connections/:id', zone: 'org', tag: 'connections',
      summary: 'Change a connection: settings, role rules, new IdP metadata or certificates, OIDC client secret rotation',
      params: connectionParams,
      body: updateConnectionBody,
      responses: { 200: { description: 'Updated', schema: connectionSchema } },
      handler: async ({ params, body, ctx }) => ({ status: 200, body: await service(ctx.state.scope).update(params.id, body) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/connections/:id', zone: 'org', tag: 'connections', summary: 'Delete a connection (its users keep their accounts)',
      params: connectionParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await service(ctx.state.scope).remove(params.id);
        return { status: 204 };
      },
    }),
    ...connectionTestRoutes(services),
  ];
}
