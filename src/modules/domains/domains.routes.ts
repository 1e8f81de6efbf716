import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { noContent, orgParams, timestamp } from '../../http/schemas.ts';
import { domainName } from './domain-name.ts';
import { DomainsService } from './domains.service.ts';

export const domainSchema = z.object({
  id: z.uuid(),
  domain: z.string(),
  verified: z.boolean(),
  verifiedAt: timestamp.nullable(),
  verifiedBy: z.enum(['dns', 'operator']).nullable(),
  txtRecord: z.object({ name: z.string(), type: z.literal('TXT'), value: z.string() }),
  createdAt: timestamp,
});

const domainParams = orgParams.extend({ id: z.uuid() });

export function domainRoutes({ dns }: ApiServices): RouteSpec[] {
  return [
    defineRoute({
      method: 'post', path: '/orgs/:orgId/domains', zone: 'org', tag: 'domains',
      summary: 'Claim an email domain; the answer names the DNS TXT record that proves it',
      params: orgParams,
      body: z.strictObject({ domain: domainName }),
      responses: { 201: { description: 'Added, not verified yet (409 `domain.exists` when this organization has it already)', schema: domainSchema } },
      handler: async ({ body, ctx }) => ({ status: 201, body: await new DomainsService(ctx.state.scope, dns).add(body.domain) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/domains', zone: 'org', tag: 'domains', summary: 'List the organization\'s domains',
      params: orgParams,
      query: pageQuery,
      responses: { 200: { description: 'A page of domains', schema: pageSchema(domainSchema) } },
      handler: async ({ query, ctx }) => ({ status: 200, body: await new DomainsService(ctx.state.scope, dns).list(query) }),
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/domains/:id', zone: 'org', tag: 'domains', summary: 'One domain and its TXT record',
      params: domainParams,
      responses: { 200: { description: 'The domain', schema: domainSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new DomainsService(ctx.state.scope, dns).get(params.id) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/domains/:id/verify', zone: 'org', tag: 'domains',
      summary: 'Look the TXT record up and, when it is there, mark the domain verified',
      params: domainParams,
      // Errors: 422 `domain.verification_failed` (the record is not there), 409 `domain.taken`.
      responses: { 200: { description: 'Verified (or verified already)', schema: domainSchema } },
      handler: async ({ params, ctx }) => ({ status: 200, body: await new DomainsService(ctx.state.scope, dns).verify(params.id) }),
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/domains/:id', zone: 'org', tag: 'domains', summary: 'Remove a domain claim',
      params: domainParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await new DomainsService(ctx.state.scope, dns).remove(params.id);
        return { status: 204 };
      },
    }),
  ];
}
