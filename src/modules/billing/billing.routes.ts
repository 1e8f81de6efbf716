import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { orgParams, timestamp } from '../../http/schemas.ts';
import { BillingService, type BillingDeps } from './billing.service.ts';

const billingSchema = z.object({
  plan: z.string(),
  planName: z.string(),
  status: z.string(),
  seats: z.object({ used: z.number().int(), allowed: z.number().int().nullable() }),
  periodEnd: timestamp.nullable(),
  billing: z.boolean(),
});
const urlSchema = z.object({ url: z.string() });

// Errors: 403 without billing:manage (owners only), 409 `billing.off` (no STRIPE_SECRET_KEY),
// 400 `billing.plan_unknown` / `billing.plan_not_for_sale`, 502 `billing.stripe_*`.
export function billingRoutes(services: ApiServices): RouteSpec[] {
  const deps: BillingDeps = { plans: services.plans, stripe: services.stripe, publicUrl: services.config.publicUrl };
  return [
    defineRoute({
      method: 'get', path: '/orgs/:orgId/billing', zone: 'org', tag: 'billing', summary: 'The organization\'s plan, subscription status and seats',
      params: orgParams,
      responses: { 200: { description: 'The plan (self-hosted when billing is off)', schema: billingSchema } },
      handler: async ({ ctx }) => ({ status: 200, body: await new BillingService(ctx.state.scope, deps).summary() }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/billing/checkout', zone: 'org', tag: 'billing', summary: 'Start a Stripe Checkout for a plan',
      params: orgParams,
      body: z.strictObject({ plan: z.string().trim().min(1).max(40) }),
      responses: { 200: { description: 'The Checkout Session URL to send the owner to', schema: urlSchema } },
      handler: async ({ body, ctx }) => ({ status: 200, body: await new BillingService(ctx.state.scope, deps).checkout(body.plan) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/billing/portal', zone: 'org', tag: 'billing', summary: 'Open the Stripe Billing Portal (409 billing.no_customer before the first checkout)',
      params: orgParams,
      responses: { 200: { description: 'The Billing Portal URL', schema: urlSchema } },
      handler: async ({ ctx }) => ({ status: 200, body: await new BillingService(ctx.state.scope, deps).portal() }),
    }),
  ];
}
