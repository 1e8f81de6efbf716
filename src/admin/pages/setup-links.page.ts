import { ApiProblem } from '../console-api.ts';
import { act, formField, type ConsoleContext, type ConsoleSection } from '../console-context.ts';
import { Field, html, OnceShown, PostForm, Table, formatDate, type VNode } from '../view.ts';

interface SetupLink {
  id: string;
  scope: 'sso' | 'scim' | 'both';
  note: string | null;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const scopeLabels: Record<string, string> = { sso: 'SSO', scim: 'SCIM', both: 'SSO and SCIM' };

function status(link: SetupLink): string {
  if (link.revokedAt) return `Revoked ${formatDate(link.revokedAt)}`;
  return Date.parse(link.expiresAt) <= Date.now() ? 'Expired' : `Until ${formatDate(link.expiresAt)}`;
}

/** The scopes this role may hand out: a link never grants what its maker lacks (the API checks too). */
function scopeOptions(can: (...p: string[]) => boolean): [string, string][] {
  const options: [string, string][] = [];
  if (can('sso:manage')) options.push(['sso', 'SSO (connections and domains)']);
  if (can('directories:manage')) options.push(['scim', 'SCIM (directories)']);
  if (can('sso:manage') && can('directories:manage')) options.push(['both', 'SSO and SCIM']);
  return options;
}

async function render(ctx: ConsoleContext, extra: VNode | null = null): Promise<void> {
  const c = ctx.state.console;
  const page = await c.api.get<{ data: SetupLink[] }>(`/orgs/${c.orgId}/setup-links`, { limit: '200' });
  const rows = page.data.map((l) => [
    scopeLabels[l.scope] ?? l.scope, l.note ?? '—', formatDate(l.createdAt), status(l), formatDate(l.lastUsedAt),
    l.revokedAt ? '' : html`<${PostForm} action=${`${c.base}/setup-links/${l.id}/revoke`} csrf=${c.csrf} confirm="Revoke this setup link? It stops working at once.">
        <button type="submit" class="danger" aria-label=${`Revoke the ${scopeLabels[l.scope]} link ${l.note ? `“${l.note}”` : `made ${formatDate(l.createdAt)}`}`}>Revoke</button>
      <//>`,
  ]);
  await c.page('Setup links', html`
    ${extra}
    <p>A setup link lets your customer's IT admin configure this organization's SSO or SCIM themselves, and nothing else, until it expires or you revoke it.</p>
    <h2>New setup link</h2>
    <${PostForm} action=${`${c.base}/setup-links`} csrf=${c.csrf}>
      <${Field} name="scope" label="What it may set up" options=${scopeOptions(c.can)} required=${true} />
      <${Field} name="expiresInHours" label="Valid for (hours)" type="number" value="72" required=${true} hint="From 1 to 720 hours (30 days)." />
      <${Field} name="note" label="Note (optional)" hint="Who it is for; shown in this list only." />
      <button type="submit">Create link</button>
    <//>
    <h2>Links</h2>
    <${Table} caption="Setup links" head=${['Scope', 'Note', 'Created', 'Status', 'Last used', '']} rows=${rows} empty="No setup links yet." />`);
}

/** The link is shown on this response only (a 200, not a redirect): the API never shows it again. */
async function create(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const hours = Number(formField(ctx, 'expiresInHours'));
  const note = formField(ctx, 'note');
  let url: string;
  try {
    url = (await c.api.post<{ url: string }>(`/orgs/${c.orgId}/setup-links`, {
      scope: formField(ctx, 'scope'), expiresInHours: Number.isInteger(hours) ? hours : -1, ...(note ? { note } : {}),
    })).url;
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    return c.done(`${c.base}/setup-links`, err.message, 'error');
  }
  await render(ctx, html`<h2>Link created</h2><${OnceShown} label="Setup link: send it to the IT admin" value=${url} id="setup-link-url" />`);
}

export const setupLinksSection: ConsoleSection = {
  path: 'setup-links',
  label: 'Setup links',
  permissions: ['sso:manage', 'directories:manage'],
  routes(pages) {
    pages.get('/setup-links', (ctx) => render(ctx));
    pages.post('/setup-links', create);
    pages.post('/setup-links/:id/revoke', (ctx) => act(ctx, `${ctx.state.console.base}/setup-links`, async () => {
      const c = ctx.state.console;
      await c.api.delete(`/orgs/${c.orgId}/setup-links/${encodeURIComponent(ctx.params.id!)}`);
      return 'The setup link was revoked; it no longer works.';
    }));
  },
};
