import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { name, noContent, orgParams, roleKey, timestamp } from '../../http/schemas.ts';
import { permissionList, RolesService } from './roles.service.ts';

export const permissionSchema = z.object({
  key: z.string(),
  description: z.string(),
  grantable: z.boolean(),
  /** Gatehouse's own, or the product's (declared by the route policy, GATEHOUSE_ROUTES). */
  source: z.enum(['gatehouse', 'product']),
});

export const roleSchema = z.object({
  key: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  permissions: z.array(z.string()),
  builtin: z.boolean(),
  createdAt: timestamp.nullable(),
  updatedAt: timestamp.nullable(),
});

// The catalogue has ~20 permissions (and the product's); the caps only stop absurd bodies before the service looks.
const permissions = z.array(z.string().max(100)).max(100);
const description = z.string().trim().max(1000);
// Roles are addressed by key: it is what memberships, keys and invitations store.
const roleParams = orgParams.extend({ roleId: roleKey });

export function roleRoutes(services: ApiServices): RouteSpec[] {
  const product = services.productPermissions;
  return [
    defineRoute({
      method: 'get', path: '/permissions', zone: 'principal', tag: 'roles', summary: 'The permission catalogue, the product\'s included',
      responses: { 200: { description: 'Every permission, and whether custom roles may hold it', schema: z.object({ data: z.array(permissionSchema) }) } },
      handler: async () => ({ status: 200, body: { data: permissionList(product) } }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/roles', zone: 'org', tag: 'roles', summary: 'List built-in and custom roles',
      params: orgParams,
      responses: { 200: { description: 'Every role of the organization', schema: z.object({ data: z.array(roleSchema), nextCursor: z.null() }) } },
      handler: async ({ ctx }) => ({ status: 200, body: { data: await new RolesService(ctx.state.scope, product, services).list(), nextCursor: null } }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/roles', zone: 'org', tag: 'roles', summary: 'Create a custom role',
      params: orgParams,
      body: z.strictObject({ key: roleKey, name, description: description.optional(), permissions }),
      responses: { 201: { description: 'Created', schema: roleSchema } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await new RolesService(ctx.state.scope, product, services).create(body) }),
    }),
    defineRoute({
      method: 'patch', path: '/orgs/:orgId/roles/:roleId', zone: 'org', tag: 'roles', summary: 'Change a custom role',
      params: roleParams,
      body: z
        .strictObject({ name: name.optional(), description: description.nullable().optional(), permissions: permissions.optional() })
        .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
      responses: { 200: { description: 'Updated', schema: roleSchema } },
      handler: async ({ params, body, ctx }) => ({ status: 200, body: await new RolesService(ctx.state.scope, product, services).update(params.roleId, body) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/roles/:roleId', zone: 'org', tag: 'roles', summary: 'Delete a custom role nobody uses',
      params: roleParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await new RolesService(ctx.state.scope, product, services).delete(params.roleId);
        return { status: 204 };
      },
    }),
  ];
}
