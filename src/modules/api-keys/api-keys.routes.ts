import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { cursorOf, pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { name, orgParams, roleKey, timestamp } from '../../http/schemas.ts';
import { ApiKeysService, defaultRotationGraceSeconds } from './api-keys.service.ts';

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  createdBy: z.uuid(),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
  workspaceId: z.uuid().nullable(),
  usageCount: z.number().int(),
  rotatedAt: timestamp.nullable(),
  previousSecretExpiresAt: timestamp.nullable(),
});

const keyParams = orgParams.extend({ id: z.string().regex(/^[0-9a-f]{16}$/, 'an API key id') });

export function apiKeyRoutes(services: ApiServices): RouteSpec[] {
  const { apiKeyTokens } = services;
  return [
    defineRoute({
      method: 'post', path: '/orgs/:orgId/api-keys', zone: 'org', tag: 'api-keys', summary: 'Create an API key (its secret is shown once)',
      params: orgParams,
      body: z.strictObject({
        name,
        role: roleKey,
        expiresAt: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
        workspaceId: z.uuid().optional(),
      }),
      responses: { 201: { description: 'Created; `key` is never shown again', schema: apiKeySchema.extend({ key: z.string() }) } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await new ApiKeysService(ctx.state.scope, apiKeyTokens, services).create(body) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/api-keys', zone: 'org', tag: 'api-keys', summary: 'List API keys (all for managers, one\'s own otherwise)',
      params: orgParams,
      query: pageQuery.extend({ cursor: cursorOf(/^[0-9a-f]{16}$/, 'a key id').optional() }),
      responses: { 200: { description: 'A page of keys', schema: pageSchema(apiKeySchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await new ApiKeysService(ctx.state.scope, apiKeyTokens).list(query) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/api-keys/:id', zone: 'org', tag: 'api-keys', summary: 'Revoke an API key',
      params: keyParams,
      responses: { 200: { description: 'Revoked', schema: apiKeySchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new ApiKeysService(ctx.state.scope, apiKeyTokens).revoke(params.id) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/api-keys/:id/rotate', zone: 'org', tag: 'api-keys',
      summary: 'Rotate an API key: the same key id with a new secret (shown once); the old secret keeps working for `gracePeriodSeconds` '
        + `(default ${defaultRotationGraceSeconds}, 0 = ends now). Only one previous secret is kept: rotating again within the grace period ends the first secret at once`,
      params: keyParams,
      body: z.strictObject({ gracePeriodSeconds: z.number().int().min(0).max(604_800).optional() }),
      responses: { 200: { description: 'Rotated; `key` is never shown again', schema: apiKeySchema.extend({ key: z.string() }) } },
      handler: async ({ params, body, ctx }) => ({
        status: 200,
        body: await new ApiKeysService(ctx.state.scope, apiKeyTokens).rotate(params.id, body.gracePeriodSeconds),
      }),
    }),
  ];
}
