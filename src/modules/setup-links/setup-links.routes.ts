import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { runInOrg } from '../../http/org-context.ts';
import { cursorOf, pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { orgParams, timestamp } from '../../http/schemas.ts';
import type { Principal } from '../scope.ts';
import { setupLinkScopes } from './setup-link-credential.ts';
import { SetupLinksService, type SetupLinksDeps } from './setup-links.service.ts';

const setupLinkSchema = z.object({
  id: z.string(),
  scope: z.enum(setupLinkScopes),
  note: z.string().nullable(),
  createdBy: z.uuid(),
  createdAt: timestamp,
  expiresAt: timestamp,
  revokedAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable(),
});

const linkId = /^[0-9a-f]{16}$/;
const linkParams = orgParams.extend({ id: z.string().regex(linkId, 'a setup link id') });

export function setupLinkRoutes(services: ApiServices): RouteSpec[] {
  const deps: SetupLinksDeps = { ...services, publicUrl: services.config.publicUrl };
  return [
    defineRoute({
      method: 'post', path: '/orgs/:orgId/setup-links', zone: 'org', tag: 'setup-links',
      summary: 'Create a setup link: whoever opens its URL (shown once) may configure only this org\'s SSO and/or SCIM until it expires or is revoked',
      params: orgParams,
      body: z.strictObject({
        scope: z.enum(setupLinkScopes),
        expiresInHours: z.number().int().min(1).max(720).default(72),
        note: z.string().trim().min(1).max(500).optional(),
      }),
      responses: { 201: { description: 'Created; `url` is never shown again', schema: setupLinkSchema.extend({ url: z.string() }) } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await new SetupLinksService(ctx.state.scope, deps).create(body) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/setup-links', zone: 'org', tag: 'setup-links', summary: 'List setup links (never their secrets)',
      params: orgParams,
      query: pageQuery.extend({ cursor: cursorOf(linkId, 'a setup link id').optional() }),
      responses: { 200: { description: 'A page of setup links', schema: pageSchema(setupLinkSchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await new SetupLinksService(ctx.state.scope, deps).list(query) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/setup-links/:id', zone: 'org', tag: 'setup-links', summary: 'Revoke a setup link (it stops working at once)',
      params: linkParams,
      responses: { 200: { description: 'Revoked', schema: setupLinkSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new SetupLinksService(ctx.state.scope, deps).revoke(params.id) }),
    }),
    defineRoute({
      method: 'get', path: '/setup-links/current', zone: 'principal', tag: 'setup-links',
      summary: 'The calling setup link: its org, scope and expiry (the setup portal\'s header and the page before it opens); 404 for any other credential',
      responses: { 200: { description: 'The link', schema: z.object({ orgId: z.uuid(), orgName: z.string(), orgSlug: z.string(), scope: z.enum(setupLinkScopes), expiresAt: timestamp }) } },
      handler: async ({ ctx }) => {
        const principal = ctx.state.principal as Principal;
        return { status: 200, body: await runInOrg(services.db, principal.orgId, ctx, (scope) => new SetupLinksService(scope, deps).current()) };
      },
    }),
  ];
}
