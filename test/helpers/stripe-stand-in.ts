import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from './cli.ts';

// A stand-in for the few Stripe API endpoints Gatehouse uses, written from Stripe's API reference
// (not from our client code): form-encoded requests, Bearer secret key, JSON objects and Stripe's
// error envelope, and idempotency keys replaying the first successful answer.
//   POST /v1/customers, POST /v1/checkout/sessions, POST /v1/billing_portal/sessions,
//   GET /v1/subscriptions/:id (state set by tests).
// With `hostedPages`, the Checkout and Billing Portal URLs it hands out point at itself, and it
// answers them with a plain page, so a browser test can follow the redirect to the end.

export interface StripeRequest {
  method: string;
  path: string;
  /** The form fields as sent (`metadata[org_id]`, `line_items[0][price]`). */
  form: Record<string, string>;
  idempotencyKey: string | null;
  stripeVersion: string | null;
}

export interface StripeFailure {
  status: number;
  type: 'api_error' | 'invalid_request_error' | 'rate_limit_error';
  /** Answer this many requests with the failure, then recover (Infinity: until cleared). */
  times: number;
}

export interface StripeStandIn {
  /** For STRIPE_API_BASE. */
  url: string;
  secretKey: string;
  requests: StripeRequest[];
  customers: Map<string, Record<string, unknown>>;
  subscriptions: Map<string, Record<string, unknown>>;
  /** Failures by path (`/v1/checkout/sessions`): the next requests there get a Stripe error. */
  failures: Map<string, StripeFailure>;
  /** The requests to one path. */
  sent(path: string): StripeRequest[];
  /** Sets (or replaces) a subscription as GET /v1/subscriptions/:id returns it. */
  setSubscription(input: SubscriptionInput): Record<string, unknown>;
  close(): Promise<void>;
}

export interface SubscriptionInput {
  id?: string;
  customer: string;
  status: string;
  priceId: string;
  /** Unix seconds. */
  currentPeriodEnd?: number;
  metadata?: Record<string, string>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/** A subscription object as the API returns it (period dates on the item, as in current API versions). */
function subscriptionObject(input: SubscriptionInput): Record<string, unknown> {
  const subId = input.id ?? id('sub');
  const periodEnd = input.currentPeriodEnd ?? now() + 30 * 86400;
  return {
    id: subId, object: 'subscription', customer: input.customer, status: input.status, created: now(),
    cancel_at_period_end: false, metadata: input.metadata ?? {},
    items: {
      object: 'list', has_more: false, url: `/v1/subscription_items?subscription=${subId}`,
      data: [{
        id: id('si'), object: 'subscription_item', quantity: 1, subscription: subId,
        current_period_start: periodEnd - 30 * 86400, current_period_end: periodEnd,
        price: { id: input.priceId, object: 'price', active: true, recurring: { interval: 'month', interval_count: 1 } },
      }],
    },
  };
}

function stripeError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
  res.end(JSON.stringify({ error: { type, message } }));
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

/** Nested form fields (`metadata[org_id]`) back into an object, one level deep. */
function nested(form: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) {
    const m = k.match(new RegExp(`^${prefix}\\[([^\\]]+)\\]$`));
    if (m) out[m[1]!] = v;
  }
  return out;
}

export async function startStripe(secretKey = `sk_test_${randomBytes(12).toString('hex')}`, options: { hostedPages?: boolean } = {}): Promise<StripeStandIn> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const checkoutBase = options.hostedPages ? url : 'https://checkout.stripe.test';
  const portalBase = options.hostedPages ? url : 'https://billing.stripe.test';
  const replays = new Map<string, string>();
  const stand: StripeStandIn = {
    url, secretKey, requests: [], customers: new Map(), subscriptions: new Map(), failures: new Map(),
    sent: (path) => stand.requests.filter((r) => r.path === path),
    setSubscription: (input) => {
      const sub = subscriptionObject(input);
      stand.subscriptions.set(sub.id as string, sub);
      return sub;
    },
    close: async () => {},
  };

  const create: Record<string, (form: Record<string, string>) => Record<string, unknown>> = {
    '/v1/customers': (form) => {
      const customer = { id: id('cus'), object: 'customer', name: form.name ?? null, metadata: nested(form, 'metadata'), created: now() };
      stand.customers.set(customer.id, customer);
      return customer;
    },
    '/v1/checkout/sessions': (form) => {
      const sessionId = id('cs_test');
      return {
        id: sessionId, object: 'checkout.session', mode: form.mode, customer: form.customer ?? null,
        client_reference_id: form.client_reference_id ?? null, metadata: nested(form, 'metadata'),
        success_url: form.success_url, cancel_url: form.cancel_url, status: 'open',
        url: `${checkoutBase}/c/pay/${sessionId}`,
      };
    },
    '/v1/billing_portal/sessions': (form) => {
      const sessionId = id('bps');
      return { id: sessionId, object: 'billing_portal.session', customer: form.customer, return_url: form.return_url ?? null, url: `${portalBase}/p/session/${sessionId}` };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    const form = req.method === 'POST' ? await readForm(req) : {};
    const idempotencyKey = (req.headers['idempotency-key'] as string | undefined) ?? null;
    stand.requests.push({ method: req.method ?? '', path, form, idempotencyKey, stripeVersion: (req.headers['stripe-version'] as string | undefined) ?? null });
    const hosted = options.hostedPages && req.method === 'GET' ? path.match(/^\/(c\/pay|p\/session)\/([A-Za-z0-9_]+)$/) : null;
    if (hosted) {
      const title = hosted[1] === 'c/pay' ? 'Stripe Checkout stand-in' : 'Stripe Billing Portal stand-in';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(`<!doctype html><html lang="en"><title>${title}</title><h1>${title}</h1><p>Session ${hosted[2]}</p></html>`);
    }
    if (req.headers.authorization !== `Bearer ${secretKey}`) return stripeError(res, 401, 'invalid_request_error', 'Invalid API Key provided.');
    const failure = stand.failures.get(path);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      return stripeError(res, failure.status, failure.type, 'The stand-in was told to fail.');
    }
    const replayKey = idempotencyKey && `${path} ${idempotencyKey}`;
    if (req.method === 'POST' && replayKey && replays.has(replayKey)) {
      res.writeHead(200, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
      return void res.end(replays.get(replayKey));
    }
    const subscription = path.match(/^\/v1\/subscriptions\/([^/]+)$/);
    if (req.method === 'GET' && subscription) {
      const sub = stand.subscriptions.get(decodeURIComponent(subscription[1]!));
      if (!sub) return stripeError(res, 404, 'invalid_request_error', `No such subscription: '${subscription[1]}'`);
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(sub));
    }
    const make = req.method === 'POST' ? create[path] : undefined;
    if (!make) return stripeError(res, 404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${path}).`);
    const body = JSON.stringify(make(form));
    if (replayKey) replays.set(replayKey, body);
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': id('req') });
    res.end(body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => stripeError(res, 500, 'api_error', 'stand-in failure'));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  stand.close = () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
  return stand;
}
