import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { timestamp } from '../../http/schemas.ts';
import { PlatformOrgsRepository } from './platform-orgs.repository.ts';
import { listPlatformOrgs } from './platform-orgs.service.ts';

// GET /platform/orgs: the platform team's overview of every org (platform keys only). The schema
// is the whole answer: the guard strips anything else, so a field added to the service by
// mistake (a secret, an email) cannot reach the wire.

export const platformOrgSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  slug: z.string(),
  createdAt: timestamp,
  plan: z.string().describe('The plan key the org has now (billing off: GATEHOUSE_DEFAULT_PLAN)'),
  billingStatus: z.string().describe('The subscription status (none without one)'),
  members: z.number().int(),
  pendingInvitations: z.number().int().describe('Pending, unexpired invitations'),
  sso: z.object({
    connections: z.number().int(),
    disabled: z.number().int().describe('Connections the org turned off'),
    disabledByPlan: z.number().int().describe('Connections the org\'s plan no longer allows'),
    certificateExpiresAt: timestamp.nullable().describe('The earliest end of the SAML IdP certificates'),
  }),
  scim: z.object({
    directories: z.number().int(),
    lastSyncAt: timestamp.nullable().describe('The latest change a SCIM push made to a user or group'),
  }),
});

export function platformOrgRoutes(services: ApiServices): RouteSpec[] {
  const repo = new PlatformOrgsRepository(services.db);
  return [
    defineRoute({
      method: 'get', path: '/platform/orgs', zone: 'platform', tag: 'platform',
      summary: 'Every organization with its plan, member counts and SSO/SCIM health (platform key); never secrets, emails or audit events',
      query: pageQuery.extend({ q: z.string().trim().min(1).max(100).optional().describe('A part of the name or slug') }),
      responses: { 200: { description: 'A page of organizations, by id', schema: pageSchema(platformOrgSchema) } },
      handler: async ({ query }) => ({
        status: 200,
        body: await listPlatformOrgs(repo, services, { limit: query.limit, after: query.cursor, q: query.q }),
      }),
    }),
  ];
}
