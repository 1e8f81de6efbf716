import { ApiProblem } from '../console-api.ts';
import { act, formField, type ConsoleContext, type ConsoleSection } from '../console-context.ts';
import { html, Field, OnceShown, PostForm, Table, formatDate, type VNode } from '../view.ts';

interface ApiKey {
  id: string;
  name: string;
  role: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  workspaceId: string | null;
  usageCount: number;
  rotatedAt: string | null;
  previousSecretExpiresAt: string | null;
}

interface Named {
  id: string;
  name: string;
}

// Grace periods offered on rotation; the API's default (one day) is selected.
const graceOptions: [string, string][] = [['0', 'Grace: none'], ['3600', 'Grace: 1 hour'], ['86400', 'Grace: 1 day'], ['604800', 'Grace: 7 days']];

function status(k: ApiKey, now: number): string {
  if (k.revokedAt) return `Revoked ${formatDate(k.revokedAt)}`;
  if (k.expiresAt && Date.parse(k.expiresAt) <= now) return 'Expired';
  if (k.previousSecretExpiresAt && Date.parse(k.previousSecretExpiresAt) > now) return `Rotating: old secret works until ${formatDate(k.previousSecretExpiresAt)}`;
  return 'Active';
}

/** The roles the caller may give a key: those whose permissions the caller holds every one of. */
async function grantableRoles(ctx: ConsoleContext): Promise<[string, string][]> {
  const c = ctx.state.console;
  const held = new Set(c.session.permissions);
  const roles = (await c.api.get<{ data: { key: string; name: string; permissions: string[] }[] }>(`/orgs/${c.orgId}/roles`)).data;
  return roles.filter((r) => r.permissions.every((p) => held.has(p))).map((r) => [r.key, r.name]);
}

async function workspaces(ctx: ConsoleContext): Promise<Named[]> {
  const c = ctx.state.console;
  return (await c.api.get<{ data: Named[] }>(`/orgs/${c.orgId}/workspaces`, { limit: '100' })).data;
}

/** Creators' emails for managers (members:read); others only ever see their own keys. */
async function people(ctx: ConsoleContext): Promise<Map<string, string>> {
  const c = ctx.state.console;
  if (!c.can('members:read')) return new Map();
  const members = (await c.api.get<{ data: { userId: string; email: string }[] }>(`/orgs/${c.orgId}/members`, { limit: '100' })).data;
  return new Map(members.map((m) => [m.userId, m.email]));
}

function actions(ctx: ConsoleContext, k: ApiKey, now: number): VNode | string {
  const c = ctx.state.console;
  if (k.revokedAt || (k.expiresAt && Date.parse(k.expiresAt) <= now)) return '';
  return html`<div class="actions">
    <${PostForm} action=${`${c.base}/api-keys/${k.id}/rotate`} csrf=${c.csrf} className="inline">
      <label class="visually-hidden" for=${`grace-${k.id}`}>Grace period for the old secret of ${k.name}</label>
      <select id=${`grace-${k.id}`} name="grace">${graceOptions.map(([v, l]) => html`<option value=${v} selected=${v === '86400'}>${l}</option>`)}</select>
      <button type="submit" class="secondary" aria-label=${`Rotate ${k.name}`}>Rotate</button>
    <//>
    <${PostForm} action=${`${c.base}/api-keys/${k.id}/revoke`} csrf=${c.csrf} confirm=${`Revoke the API key "${k.name}"? Anything using it stops working at once.`}>
      <button type="submit" class="danger" aria-label=${`Revoke ${k.name}`}>Revoke</button>
    <//>
  </div>`;
}

function createForm(ctx: ConsoleContext, roles: [string, string][], spaces: Named[]): VNode {
  const c = ctx.state.console;
  return html`<h2>New API key</h2>
    <${PostForm} action=${`${c.base}/api-keys`} csrf=${c.csrf}>
      <${Field} name="name" label="Name" required=${true} hint="What uses it, e.g. “CI deploys”." />
      <${Field} name="role" label="Role" options=${roles} value=${roles.some(([k]) => k === 'member') ? 'member' : roles[0]?.[0]} hint="Only roles within your own are offered." />
      <${Field} name="expires" label="Expires on (optional)" type="date" hint="The key stops working at the end of that day (UTC). Leave empty for no expiry." />
      <${Field} name="workspace" label="Workspace (optional)" options=${[['', 'The whole organization'], ...spaces.map((w): [string, string] => [w.id, w.name])]} hint="A key bound to a workspace reaches only that workspace." />
      <button type="submit">Create key</button>
    <//>`;
}

async function list(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  const [page, roles, spaces, names] = await Promise.all([
    c.api.get<{ data: ApiKey[]; nextCursor: string | null }>(`/orgs/${c.orgId}/api-keys`, { limit: '100', cursor }),
    grantableRoles(ctx), workspaces(ctx), people(ctx),
  ]);
  const all = c.can('api_keys:manage');
  const spaceName = new Map(spaces.map((w) => [w.id, w.name]));
  const now = Date.now();
  const rows = page.data.map((k) => [
    html`<span>${k.name}</span><br /><small class="mono">${k.id}</small>`,
    k.role,
    ...(all ? [k.createdBy === c.session.userId ? 'You' : names.get(k.createdBy) ?? k.createdBy] : []),
    formatDate(k.createdAt), formatDate(k.expiresAt), formatDate(k.lastUsedAt), String(k.usageCount),
    k.workspaceId ? spaceName.get(k.workspaceId) ?? k.workspaceId : 'Whole organization',
    status(k, now),
    actions(ctx, k, now),
  ]);
  const head = ['Name', 'Role', ...(all ? ['Created by'] : []), 'Created', 'Expires', 'Last used', 'Uses', 'Workspace', 'Status', ''];
  await c.page('API keys', html`
    <p>${all ? 'Every API key of this organization.' : 'Your own API keys in this organization.'} A key is sent as <code>Authorization: Bearer gh_…</code>.</p>
    <${Table} caption=${all ? 'All API keys' : 'Your API keys'} head=${head} rows=${rows} empty="No API keys yet." />
    ${page.nextCursor ? html`<p><a href=${`${c.base}/api-keys?cursor=${encodeURIComponent(page.nextCursor)}`}>Next page</a></p>` : null}
    ${createForm(ctx, roles, spaces)}`);
}

/** The end of the chosen day in UTC, as the API's ISO datetime; undefined when none was chosen. */
function expiryOf(value: string): string | undefined {
  if (!value) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw new ApiProblem(400, 'console.bad_date', 'The expiry date is not a date (YYYY-MM-DD).');
  const end = `${value}T23:59:59Z`;
  // The API refuses it too; this says which field and why, where the API's answer is generic.
  if (Date.parse(end) <= Date.now()) throw new ApiProblem(400, 'console.bad_date', 'The expiry date must be in the future.');
  return end;
}

/** The secret is on this response page and nowhere else: not in a flash, a URL or a later page. */
async function showSecret(ctx: ConsoleContext, title: string, key: ApiKey & { key: string }, note: string): Promise<void> {
  const c = ctx.state.console;
  await c.page(title, html`
    <p>${note}</p>
    <${OnceShown} label=${`Secret of ${key.name}`} value=${key.key} />
    <p><a href=${`${c.base}/api-keys`}>Back to API keys</a></p>`);
}

/** A create or rotate whose answer is a once-shown secret; a refusal goes back to the list as a message. */
async function withSecret(ctx: ConsoleContext, call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    ctx.state.console.done(`${ctx.state.console.base}/api-keys`, err.message, 'error');
  }
}

async function create(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  await withSecret(ctx, async () => {
    const workspaceId = formField(ctx, 'workspace');
    const expiresAt = expiryOf(formField(ctx, 'expires'));
    const key = await c.api.post<ApiKey & { key: string }>(`/orgs/${c.orgId}/api-keys`, {
      name: formField(ctx, 'name'), role: formField(ctx, 'role'),
      ...(expiresAt ? { expiresAt } : {}), ...(workspaceId ? { workspaceId } : {}),
    });
    await showSecret(ctx, 'API key created', key, `The key "${key.name}" (role ${key.role}) is ready.`);
  });
}

async function rotate(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  await withSecret(ctx, async () => {
    const grace = Number(formField(ctx, 'grace') || '86400');
    const key = await c.api.post<ApiKey & { key: string }>(`/orgs/${c.orgId}/api-keys/${encodeURIComponent(ctx.params.id!)}/rotate`, { gracePeriodSeconds: grace });
    const until = key.previousSecretExpiresAt ? `The old secret keeps working until ${formatDate(key.previousSecretExpiresAt)}.` : 'The old secret has stopped working.';
    await showSecret(ctx, 'API key rotated', key, `"${key.name}" has a new secret. ${until}`);
  });
}

export const apiKeysSection: ConsoleSection = {
  path: 'api-keys',
  label: 'API keys',
  permissions: ['api_keys:create', 'api_keys:manage'],
  routes(pages) {
    pages.get('/api-keys', list);
    pages.post('/api-keys', create);
    pages.post('/api-keys/:id/rotate', rotate);
    pages.post('/api-keys/:id/revoke', (ctx) => act(ctx, `${ctx.state.console.base}/api-keys`, async () => {
      const c = ctx.state.console;
      const key = await c.api.delete<ApiKey>(`/orgs/${c.orgId}/api-keys/${encodeURIComponent(ctx.params.id!)}`);
      return `The API key "${key.name}" was revoked.`;
    }));
  },
};
