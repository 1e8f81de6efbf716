import type { IncomingMessage } from 'node:http';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Stripe from 'stripe';
import { AppError } from '../../errors.ts';
import { problemDetails } from '../../http/problem.ts';
import type { StripeWebhook } from './stripe-webhook.ts';

// POST /webhooks/stripe (DESIGN.md; mounted outside /api so no body parser runs first: the
// signature covers the exact bytes Stripe sent, which a parsed-and-reserialised body is not).

/** Stripe's events are a few KB; anything near this is not from Stripe. */
export const webhookBodyLimit = 1024 * 1024;

export interface StripeWebhookRouteDeps {
  stripe: Stripe;
  /** STRIPE_WEBHOOK_SECRET. */
  secret: string;
  webhook: StripeWebhook;
}

function tooLarge(): AppError {
  return new AppError('request.too_large', 413, 'The request body is too large.');
}

/** The body as sent, refused past `limit` bytes (before reading when Content-Length says so). */
async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function verifiedEvent(ctx: Context, deps: StripeWebhookRouteDeps, raw: Buffer): Stripe.Event {
  const header = ctx.get('stripe-signature');
  if (!header) throw new AppError('webhook.signature_missing', 400, 'The Stripe-Signature header is missing.');
  try {
    // The SDK's check: an HMAC of "timestamp.body" under the secret, compared in constant time,
    // and a timestamp within its default tolerance (5 minutes), so a captured event cannot be
    // replayed later. A signed body that is not an event fails here too.
    return deps.stripe.webhooks.constructEvent(raw, header, deps.secret);
  } catch (err) {
    throw new AppError('webhook.signature_invalid', 400, 'The Stripe-Signature header does not verify this body.', { cause: err });
  }
}

export function stripeWebhookRoutes(deps: StripeWebhookRouteDeps): Router {
  const router = new Router();
  router.post('/webhooks/stripe', problemDetails(), async function receiveStripeEvent(ctx) {
    const raw = await readRawBody(ctx.req, webhookBodyLimit);
    const event = verifiedEvent(ctx, deps, raw);
    const outcome = await deps.webhook.handle(event);
    ctx.state.log?.info({ eventId: event.id, type: event.type, outcome }, 'stripe event received');
    ctx.body = { received: true, outcome };
  });
  return router;
}
