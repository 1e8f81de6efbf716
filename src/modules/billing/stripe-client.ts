import Stripe from 'stripe';
import type { Config } from '../../../config/config.schema.ts';
import { AppError } from '../../errors.ts';

// The one Stripe SDK instance (made in app.ts, passed down as ApiServices.stripe).

export type StripeClient = Stripe;

/**
 * Pinned to the version the installed SDK declares (Stripe.API_VERSION): its types describe
 * exactly these objects, and an SDK upgrade that moves the version fails the typecheck here
 * instead of silently changing the shapes webhooks deliver.
 */
export const stripeApiVersion = '2026-10-28.endive' satisfies typeof Stripe.API_VERSION;

/** Where the SDK sends requests: Stripe itself, or STRIPE_API_BASE (a local stand-in in tests). */
function apiBase(config: Pick<Config, 'stripeApiBase'>): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  if (!config.stripeApiBase) return {};
  const url = new URL(config.stripeApiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port || (protocol === 'http' ? 80 : 443), protocol };
}

/** The SDK client when billing is on (STRIPE_SECRET_KEY); undefined when it is off. */
export function createStripeClient(config: Pick<Config, 'stripeSecretKey' | 'stripeApiBase'>): StripeClient | undefined {
  if (!config.stripeSecretKey) return undefined;
  return new Stripe(config.stripeSecretKey, {
    apiVersion: stripeApiVersion,
    ...apiBase(config),
    // The SDK retries connection errors, 409s and 5xx with backoff, sending one idempotency key
    // for every attempt of a POST, so a retried create never makes two objects.
    maxNetworkRetries: 2,
    // A request thread waits at most this long per attempt; Stripe answers in well under a second.
    timeout: 10_000,
    telemetry: false,
    appInfo: { name: 'Gatehouse' },
  });
}

/**
 * Runs one Stripe call; a Stripe failure becomes a 502 problem with a clear code (the cause goes to
 * the log, never Stripe's message to the client: it can name internal objects). The caller's
 * transaction then rolls back, so nothing is stored half-way.
 */
export async function callStripe<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeError)) throw err;
    if (err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeAPIError || err instanceof Stripe.errors.StripeRateLimitError) {
      throw new AppError('billing.stripe_unavailable', 502, `Stripe could not be reached to ${action}; try again shortly.`, { cause: err });
    }
    throw new AppError('billing.stripe_failed', 502, `Stripe refused to ${action}; the billing set-up needs attention.`, { cause: err });
  }
}
