import { Readable } from 'node:stream';
import type { ReadableStream as WebStream } from 'node:stream/web';
import { ApiProblem } from '../console-api.ts';
import type { ConsoleContext, ConsoleSection } from '../console-context.ts';
import { html, Field, Table, formatDate, type VNode } from '../view.ts';

interface AuditEvent {
  id: string;
  seq: number;
  type: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string | null } | null;
  ip: string | null;
  occurredAt: string;
}

interface ChainReport {
  intact: boolean;
  eventsChecked: number;
  brokenAt: { seq: number; eventId: string | null; reason: string } | null;
}

/** The page's filters as typed into its GET form (dates as YYYY-MM-DD). */
interface Filters {
  type: string;
  actor: string;
  target: string;
  from: string;
  to: string;
}

const day = /^\d{4}-\d{2}-\d{2}$/;

function filtersOf(ctx: ConsoleContext): Filters {
  const q = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string).trim() : '');
  return { type: q('type'), actor: q('actor'), target: q('target'), from: q('from'), to: q('to') };
}

/** The API's query for the filters: a day range covers `from` 00:00 UTC up to the end of `to`. */
function apiQuery(f: Filters): Record<string, string | undefined> {
  const date = (value: string, label: string, plusDays = 0): string | undefined => {
    if (!value) return undefined;
    const d = new Date(`${value}T00:00:00Z`);
    if (!day.test(value) || Number.isNaN(d.getTime())) throw new ApiProblem(400, 'console.bad_date', `${label} is not a date (YYYY-MM-DD).`);
    return new Date(d.getTime() + plusDays * 86_400_000).toISOString();
  };
  return { type: f.type || undefined, actorId: f.actor || undefined, targetId: f.target || undefined, since: date(f.from, 'From'), until: date(f.to, 'To', 1) };
}

function linkQuery(f: Filters, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v) params.set(k, v);
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

function chainStatus(report: ChainReport): VNode {
  if (report.intact) return html`<p class="flash ok" role="status">Audit chain intact: ${report.eventsChecked} events checked.</p>`;
  const at = report.brokenAt ? ` at event #${report.brokenAt.seq} (${report.brokenAt.reason.replaceAll('_', ' ')})` : '';
  return html`<p class="warning" role="status">Audit chain NOT intact${at}: ${report.eventsChecked} events checked. The trail may have been tampered with.</p>`;
}

function filterForm(ctx: ConsoleContext, f: Filters, people: [string, string][]): VNode {
  const c = ctx.state.console;
  return html`<form method="get" action=${`${c.base}/audit`} class="filters">
    <${Field} name="type" label="Event type" value=${f.type} hint="An event type (api_key.created) or a prefix (api_key.*)." />
    ${people.length
      ? html`<${Field} name="actor" label="Actor" value=${f.actor} options=${[['', 'Anyone'], ...people]} />`
      : html`<${Field} name="actor" label="Actor id" value=${f.actor} />`}
    <${Field} name="target" label="Target id" value=${f.target} hint="The id of what was changed (a key, a member, a workspace)." />
    <${Field} name="from" label="From (UTC date)" type="date" value=${f.from} />
    <${Field} name="to" label="To (UTC date, included)" type="date" value=${f.to} />
    <div class="actions"><button type="submit">Show events</button> <a href=${`${c.base}/audit`}>Clear filters</a></div>
  </form>`;
}

async function list(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const f = filtersOf(ctx);
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  const members = c.can('members:read') ? (await c.api.get<{ data: { userId: string; email: string }[] }>(`/orgs/${c.orgId}/members`, { limit: '100' })).data : [];
  const who = new Map(members.map((m) => [m.userId, m.email]));
  const chain = await c.api.get<ChainReport>(`/orgs/${c.orgId}/audit-events/verify`);
  let events: VNode;
  try {
    const page = await c.api.get<{ data: AuditEvent[]; nextCursor: string | null }>(`/orgs/${c.orgId}/audit-events`, { ...apiQuery(f), limit: '50', cursor });
    const rows = page.data.map((e) => [
      formatDate(e.occurredAt), html`<code>${e.type}</code>`,
      e.actor.id ? who.get(e.actor.id) ?? `${e.actor.type} ${e.actor.id}` : e.actor.type,
      e.target ? `${e.target.type} ${e.target.id ?? ''}` : '—', e.ip ?? '—',
    ]);
    events = html`<${Table} caption="Audit events, newest first" head=${['When', 'Event', 'Actor', 'Target', 'IP address']} rows=${rows} empty="No events match." />
      ${page.nextCursor ? html`<p><a href=${`${c.base}/audit${linkQuery(f, { cursor: page.nextCursor })}`}>Older events</a></p>` : null}`;
  } catch (err) {
    if (!(err instanceof ApiProblem) || err.status !== 400) throw err;
    events = html`<p class="flash error" role="alert">These filters do not work: ${err.message}</p>`;
  }
  await c.page('Audit log', html`
    ${chainStatus(chain)}
    <h2>Filters</h2>
    ${filterForm(ctx, f, [...who].map(([id, email]): [string, string] => [id, email]))}
    <h2>Events</h2>
    ${events}
    <h2>Export</h2>
    <p>Every event matching the filters, oldest first.</p>
    <div class="actions">
      <a class="button secondary" href=${`${c.base}/audit/export${linkQuery(f, { format: 'csv' })}`}>Export CSV</a>
      <a class="button secondary" href=${`${c.base}/audit/export${linkQuery(f, { format: 'jsonl' })}`}>Export JSON Lines</a>
    </div>`);
}

/** Streams the API's export through: its content type, a download filename, no buffering here. */
async function exportEvents(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const f = filtersOf(ctx);
  const format = ctx.query.format === 'jsonl' ? 'jsonl' : 'csv';
  try {
    const res = await c.api.raw(`/orgs/${c.orgId}/audit-events`, { ...apiQuery(f), format });
    ctx.status = 200;
    ctx.type = res.headers.get('content-type') ?? (format === 'csv' ? 'text/csv' : 'application/x-ndjson');
    ctx.set('content-disposition', res.headers.get('content-disposition') ?? `attachment; filename="audit-events.${format}"`);
    ctx.set('cache-control', 'no-store');
    ctx.set('x-content-type-options', 'nosniff');
    ctx.body = res.body ? Readable.fromWeb(res.body as WebStream<Uint8Array>) : '';
  } catch (err) {
    // A plan without audit_export answers 402: its message goes back to the audit page.
    if (!(err instanceof ApiProblem)) throw err;
    c.done(`${c.base}/audit${linkQuery(f)}`, err.message, 'error');
  }
}

export const auditSection: ConsoleSection = {
  path: 'audit',
  label: 'Audit log',
  permissions: ['audit:read'],
  routes(pages) {
    pages.get('/audit', list);
    pages.get('/audit/export', exportEvents);
  },
};
