import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { name, orgParams, roleKey, timestamp } from '../../http/schemas.ts';
import { ServiceAccountsService } from './service-accounts.service.ts';

export const serviceAccountSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  role: z.string(),
  clientId: z.string(),
  createdBy: z.uuid().nullable(),
  createdAt: timestamp,
  revokedAt: timestamp.nullable(),
  workspaceId: z.uuid().nullable(),
});

export function serviceAccountRoutes(services: ApiServices): RouteSpec[] {
  const { secrets } = services;
  return [
    defineRoute({
      method: 'post', path: '/orgs/:orgId/service-accounts', zone: 'org', tag: 'service-accounts',
      summary: 'Create a service account (client_credentials), optionally bound to a workspace; its secret is shown once',
      params: orgParams,
      body: z.strictObject({ name, role: roleKey, workspaceId: z.uuid().optional() }),
      responses: { 201: { description: 'Created; `clientSecret` is never shown again', schema: serviceAccountSchema.extend({ clientSecret: z.string() }) } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await new ServiceAccountsService(ctx.state.scope, secrets, services).create(body) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/service-accounts', zone: 'org', tag: 'service-accounts', summary: 'List service accounts',
      params: orgParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of service accounts', schema: pageSchema(serviceAccountSchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await new ServiceAccountsService(ctx.state.scope, secrets).list(query) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/service-accounts/:id', zone: 'org', tag: 'service-accounts', summary: 'Revoke a service account',
      params: orgParams.extend({ id: z.uuid() }),
      responses: { 200: { description: 'Revoked', schema: serviceAccountSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new ServiceAccountsService(ctx.state.scope, secrets).revoke(params.id) }),
    }),
  ];
}
