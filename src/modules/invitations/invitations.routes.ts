import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { requestMeta } from '../../http/org-context.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { email, name, orgParams, roleKey, timestamp } from '../../http/schemas.ts';
import { invitationStatuses } from './invitation.entity.ts';
import { acceptInvitation } from './invitation-accept.service.ts';
import { InvitationsService } from './invitations.service.ts';

export const invitationSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  role: z.string(),
  status: z.enum(invitationStatuses),
  invitedBy: z.uuid().nullable(),
  acceptedBy: z.uuid().nullable(),
  expiresAt: timestamp,
  acceptedAt: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
const issuedInvitationSchema = invitationSchema.extend({ acceptUrl: z.string() });

const invitationParams = orgParams.extend({ id: z.uuid() });

export function invitationRoutes(services: ApiServices): RouteSpec[] {
  const deps = { config: services.config, mailer: services.mailer, plans: services };
  return [
    defineRoute({
      method: 'post', path: '/orgs/:orgId/invitations', zone: 'org', tag: 'invitations', summary: 'Invite someone by email (the accept link is shown once)',
      params: orgParams,
      body: z.strictObject({ email, role: roleKey }),
      responses: { 201: { description: 'Invited and mailed; `acceptUrl` is never shown again', schema: issuedInvitationSchema } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await new InvitationsService(ctx.state.scope, deps).create(body) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/invitations', zone: 'org', tag: 'invitations', summary: 'List invitations',
      params: orgParams,
      query: pageQuery.extend({ status: z.enum(invitationStatuses).optional() }),
      responses: { 200: { description: 'A page of invitations', schema: pageSchema(invitationSchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await new InvitationsService(ctx.state.scope, deps).list(query) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/invitations/:id', zone: 'org', tag: 'invitations', summary: 'Cancel an invitation',
      params: invitationParams,
      responses: { 200: { description: 'Cancelled', schema: invitationSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new InvitationsService(ctx.state.scope, deps).cancel(params.id) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/invitations/:id/resend', zone: 'org', tag: 'invitations', summary: 'Mail an invitation again with a new link and expiry',
      params: invitationParams,
      responses: { 200: { description: 'Resent; the previous link no longer works', schema: issuedInvitationSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new InvitationsService(ctx.state.scope, deps).resend(params.id) }),
    }),
    defineRoute({
      method: 'post', path: '/invitations/:token/accept', zone: 'anonymous', tag: 'invitations', summary: 'Accept an invitation (creating the account if needed)',
      params: z.object({ token: z.string().max(200) }),
      body: z.strictObject({ password: z.string().min(1).max(1024).optional(), name: name.optional() }),
      responses: { 200: { description: 'Joined', schema: z.object({ orgId: z.uuid(), userId: z.uuid(), role: z.string() }) } },
      handler: async ({ params, body, ctx }) => ({
        status: 200,
        body: await acceptInvitation(services, params.token, body, requestMeta(ctx)),
      }),
    }),
  ];
}
