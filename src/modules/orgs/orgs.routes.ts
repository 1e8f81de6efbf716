import { z } from 'zod';
import { ForbiddenError } from '../../errors.ts';
import type { ApiServices } from '../../http/api-services.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { name, noContent, orgParams, slug, timestamp } from '../../http/schemas.ts';
import { ApiKeysService } from '../api-keys/api-keys.service.ts';
import { MembersService } from '../members/members.service.ts';
import type { Principal } from '../scope.ts';
import { requestMeta, runInOrg } from '../../http/org-context.ts';
import { createOrganization, OrgsService } from './orgs.service.ts';

export const orgSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  slug: z.string(),
  kind: z.enum(['team', 'personal']),
  requireMfa: z.boolean(),
  ssoEnforced: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export function orgRoutes(services: ApiServices): RouteSpec[] {
  const { db, apiKeyTokens } = services;
  return [
    defineRoute({
      method: 'get', path: '/orgs', zone: 'principal', tag: 'orgs', summary: 'Organizations this credential can act in',
      responses: { 200: { description: 'The organizations', schema: z.object({ data: z.array(orgSchema), nextCursor: z.null() }) } },
      handler: async ({ ctx }) => {
        const principal = ctx.state.principal as Principal;
        const org = await runInOrg(db, principal.orgId, ctx, (scope) => new OrgsService(scope).get());
        return { status: 200, body: { data: [org], nextCursor: null } };
      },
    }),
    defineRoute({
      method: 'get', path: '/me/orgs', zone: 'principal', tag: 'orgs',
      summary: 'The organizations the signed-in user may switch to (refresh grant with `organization`); an API key or service account sees only its own',
      responses: { 200: { description: 'The organizations', schema: z.object({ data: z.array(z.object({ id: z.uuid(), name: z.string(), slug: z.string() })) }) } },
      handler: async ({ ctx }) => {
        const principal = ctx.state.principal as Principal;
        // Only a user's own sign-in spans their orgs; a key is bound to the org it was made in.
        const orgs = principal.credential.type === 'access_token' && principal.userId
          ? await services.platform.orgsOfUser(principal.userId)
          : [await runInOrg(db, principal.orgId, ctx, (scope) => new OrgsService(scope).get())];
        return { status: 200, body: { data: orgs.map(({ id, name, slug }) => ({ id, name, slug })) } };
      },
    }),
    defineRoute({
      method: 'post', path: '/orgs', zone: 'principal', tag: 'orgs',
      summary: 'Create an organization owned by the calling key\'s user (needs org:create), with an owner API key for it shown once',
      body: z.strictObject({ name, slug: slug.optional() }),
      responses: { 201: { description: 'Created', schema: orgSchema.extend({ apiKey: z.string() }) } },
      handler: async ({ body, ctx }) => {
        const principal = ctx.state.principal as Principal;
        // a service account speaks for nobody, so it can own nothing
        if (!principal.userId) throw new ForbiddenError('org.owner_required', 'Only a person can own an organization.');
        // API keys are bound to one org: the new org comes with its own owner key.
        const { org, then: key } = await createOrganization(db, {
          ...body, owner: { userId: principal.userId, source: 'created' }, principal, meta: requestMeta(ctx),
        }, (scope, _org, ownerId) => new ApiKeysService(scope, apiKeyTokens).create({ name: 'created with the organization', role: 'owner' }, ownerId));
        return { status: 201, body: { ...org, apiKey: key.key } };
      },
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId', zone: 'org', tag: 'orgs', summary: 'Get an organization',
      params: orgParams,
      responses: { 200: { description: 'The organization', schema: orgSchema } },
      handler: async ({ ctx }) => ({ status: 200, body: await new OrgsService(ctx.state.scope).get() }),
    }),
    defineRoute({
      method: 'patch', path: '/orgs/:orgId', zone: 'org', tag: 'orgs', summary: 'Rename an organization, change its slug, require a second factor of its owners and admins, or enforce SSO for its verified domains',
      params: orgParams,
      body: z.strictObject({ name: name.optional(), slug: slug.optional(), requireMfa: z.boolean().optional(), ssoEnforced: z.boolean().optional() }).refine((b) => Object.keys(b).length > 0, 'nothing to change'),
      responses: { 200: { description: 'Updated', schema: orgSchema } },
      handler: async ({ body, ctx }) => ({ status: 200, body: await new OrgsService(ctx.state.scope).update(body) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId', zone: 'org', tag: 'orgs', summary: 'Delete an organization and all it owns (owner only)',
      params: orgParams,
      responses: noContent,
      handler: async ({ ctx }) => {
        const org = await new OrgsService(ctx.state.scope).delete();
        ctx.state.log.info({ orgId: org.id, slug: org.slug }, 'organization deleted');
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/transfer-ownership', zone: 'org', tag: 'orgs', summary: 'Hand ownership to another member (owner only)',
      params: orgParams,
      body: z.strictObject({ userId: z.uuid() }),
      responses: noContent,
      handler: async ({ body, ctx }) => {
        await new MembersService(ctx.state.scope, services).transferOwnership(body.userId);
        return { status: 204 };
      },
    }),
  ];
}
