import { ApiProblem } from '../console-api.ts';
import { formField, type ConsoleContext, type ConsoleSection } from '../console-context.ts';
import { html, PostForm, Table, formatDate, type VNode } from '../view.ts';

interface Billing {
  plan: string;
  planName: string;
  status: string;
  seats: { used: number; allowed: number | null };
  periodEnd: string | null;
  billing: boolean;
}

interface Plan {
  key: string;
  name: string;
  seats: number | null;
  features: string[];
  apiKeyLimit: number | null;
  auditRetentionDays: number | null;
  forSale: boolean;
}

const statusWords: Record<string, string> = {
  none: 'No subscription', active: 'Active', trialing: 'Trial', past_due: 'Payment past due (the plan stays on during the grace period)',
  unpaid: 'Unpaid', canceled: 'Cancelled', incomplete: 'Incomplete', incomplete_expired: 'Expired before payment', paused: 'Paused',
};

// Where Stripe sends the owner back (?checkout=…): the webhook, not this page, applies the result.
const returnMessages: Record<string, VNode> = {
  success: html`<p class="flash ok" role="status">Checkout complete. The new plan shows here as soon as Stripe confirms the payment.</p>`,
  cancelled: html`<p class="flash error" role="status">Checkout was cancelled: nothing changed.</p>`,
};

const off = html`<p role="status">Billing is not enabled on this deployment: every organization has the self-hosted plan.</p>`;

const orUnlimited = (n: number | null, unit: string) => (n === null ? `unlimited ${unit}s` : `${n} ${unit}${n === 1 ? '' : 's'}`);

function summary(b: Billing): VNode {
  return html`<dl class="values">
    <dt>Plan</dt><dd>${b.planName}</dd>
    <dt>Status</dt><dd>${statusWords[b.status] ?? b.status}</dd>
    <dt>Seats</dt><dd>${b.seats.used} used of ${b.seats.allowed ?? 'unlimited'}</dd>
    <dt>Current period ends</dt><dd>${formatDate(b.periodEnd)}</dd>
  </dl>
  ${b.seats.allowed !== null && b.seats.used > b.seats.allowed ? html`<p class="warning">More seats are in use than the plan allows: new members and invitations are refused until you upgrade.</p>` : null}`;
}

function plansTable(ctx: ConsoleContext, b: Billing, plans: Plan[]): VNode {
  const c = ctx.state.console;
  const rows = plans.map((p) => [
    p.key === b.plan ? html`<strong>${p.name}</strong> <small>(current)</small>` : p.name,
    orUnlimited(p.seats, 'seat'), orUnlimited(p.apiKeyLimit, 'key'),
    p.features.length ? p.features.join(', ').replaceAll('_', ' ') : '—',
    p.forSale && p.key !== b.plan
      ? html`<${PostForm} action=${`${c.base}/billing/checkout`} csrf=${c.csrf}>
          <input type="hidden" name="plan" value=${p.key} />
          <button type="submit" aria-label=${`Upgrade to ${p.name}`}>Upgrade</button>
        <//>`
      : '',
  ]);
  return html`<${Table} caption="Plans" head=${['Plan', 'Seats', 'API keys', 'Features', '']} rows=${rows} />`;
}

async function show(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const back = typeof ctx.query.checkout === 'string' ? returnMessages[ctx.query.checkout] : undefined;
  const [b, plans] = await Promise.all([
    c.api.get<Billing>(`/orgs/${c.orgId}/billing`),
    c.api.get<{ data: Plan[] }>(`/orgs/${c.orgId}/billing/plans`),
  ]);
  await c.page('Billing', html`
    ${back}
    ${b.billing ? null : off}
    <h2>This organization</h2>
    ${summary(b)}
    ${b.billing ? html`<h2>Plans</h2>
      <p>Upgrading opens Stripe Checkout; a plan with a subscription changes in the billing portal.</p>
      ${plansTable(ctx, b, plans.data)}
      <h2>Payment details and invoices</h2>
      <${PostForm} action=${`${c.base}/billing/portal`} csrf=${c.csrf}>
        <button type="submit" class="secondary">Manage billing</button>
      <//>` : null}`);
}

/** Sends the browser to the Stripe page the API opened; a refusal comes back as a message. */
async function toStripe(ctx: ConsoleContext, open: () => Promise<{ url: string }>): Promise<void> {
  const c = ctx.state.console;
  try {
    const { url } = await open();
    if (!/^https?:\/\//.test(url)) throw new ApiProblem(502, 'billing.stripe_failed', 'Stripe answered with an unusable address.');
    ctx.status = 303;
    ctx.redirect(url);
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    const text = err.code === 'billing.off' ? 'Billing is not enabled on this deployment.' : err.message;
    c.done(`${c.base}/billing`, text, 'error');
  }
}

export const billingSection: ConsoleSection = {
  path: 'billing',
  label: 'Billing',
  permissions: ['billing:manage'],
  routes(pages) {
    pages.get('/billing', show);
    pages.post('/billing/checkout', (ctx) => toStripe(ctx, () => {
      const c = ctx.state.console;
      return c.api.post(`/orgs/${c.orgId}/billing/checkout`, { plan: formField(ctx, 'plan') });
    }));
    pages.post('/billing/portal', (ctx) => toStripe(ctx, () => ctx.state.console.api.post(`/orgs/${ctx.state.console.orgId}/billing/portal`)));
  },
};
