import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { orgParams } from '../../http/schemas.ts';
import { BillingPlansService } from './billing-plans.service.ts';

const planSchema = z.object({
  key: z.string(),
  name: z.string(),
  seats: z.number().int().nullable(),
  features: z.array(z.string()),
  roles: z.array(z.string()),
  apiKeyLimit: z.number().int().nullable(),
  auditRetentionDays: z.number().int().nullable(),
  forSale: z.boolean(),
});

// Errors: 403 without billing:manage (owners only), like the rest of /billing.
export function billingPlanRoutes(services: ApiServices): RouteSpec[] {
  return [
    defineRoute({
      method: 'get', path: '/orgs/:orgId/billing/plans', zone: 'org', tag: 'billing',
      summary: 'The plans, cheapest first; `forSale`: can be bought through POST billing/checkout (billing on, a Stripe price set)',
      params: orgParams,
      query: z.strictObject({}),
      responses: { 200: { description: 'The plan catalogue', schema: z.object({ data: z.array(planSchema) }) } },
      handler: async ({ ctx }) => ({ status: 200, body: new BillingPlansService(ctx.state.scope, services.plans, services.stripe !== undefined).list() }),
    }),
  ];
}
