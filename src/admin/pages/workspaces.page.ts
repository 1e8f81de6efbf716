import { act, formField, type ConsoleContext, type ConsoleSection } from '../console-context.ts';
import { html, Field, PostForm, Table, formatDate, type VNode } from '../view.ts';

interface Workspace {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

function renameForm(ctx: ConsoleContext, w: Workspace): VNode {
  const c = ctx.state.console;
  return html`<${PostForm} action=${`${c.base}/workspaces/${w.id}/rename`} csrf=${c.csrf} className="inline">
    <label class="visually-hidden" for=${`rename-${w.id}`}>New name for ${w.name}</label>
    <input id=${`rename-${w.id}`} name="name" value=${w.name} required maxlength="200" />
    <button type="submit" class="secondary" aria-label=${`Rename ${w.name}`}>Rename</button>
  <//>`;
}

function deleteForm(ctx: ConsoleContext, w: Workspace): VNode {
  const c = ctx.state.console;
  // The API deletes the keys and service accounts bound to the workspace with it: say so first.
  const confirm = `Delete the workspace "${w.name}"? The API keys and service accounts bound to it are revoked and deleted with it, and members limited to it lose it.`;
  return html`<${PostForm} action=${`${c.base}/workspaces/${w.id}/delete`} csrf=${c.csrf} confirm=${confirm}>
    <button type="submit" class="danger" aria-label=${`Delete ${w.name}`}>Delete</button>
  <//>`;
}

async function list(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  const page = await c.api.get<{ data: Workspace[]; nextCursor: string | null }>(`/orgs/${c.orgId}/workspaces`, { limit: '100', cursor });
  const manage = c.can('workspaces:manage');
  const rows = page.data.map((w) => manage
    ? [renameForm(ctx, w), formatDate(w.createdAt), formatDate(w.updatedAt), deleteForm(ctx, w)]
    : [w.name, formatDate(w.createdAt), formatDate(w.updatedAt)]);
  await c.page('Workspaces', html`
    <p>Workspaces divide the organization: API keys and members can be limited to some of them.</p>
    <${Table} caption="Workspaces" head=${manage ? ['Name', 'Created', 'Changed', ''] : ['Name', 'Created', 'Changed']} rows=${rows} empty="No workspaces yet." />
    ${page.nextCursor ? html`<p><a href=${`${c.base}/workspaces?cursor=${encodeURIComponent(page.nextCursor)}`}>Next page</a></p>` : null}
    ${manage ? html`<h2>New workspace</h2>
      <${PostForm} action=${`${c.base}/workspaces`} csrf=${c.csrf}>
        <${Field} name="name" label="Name" required=${true} hint="Unique in the organization, ignoring case." />
        <button type="submit">Create workspace</button>
      <//>` : null}`);
}

const back = (ctx: ConsoleContext) => `${ctx.state.console.base}/workspaces`;
const workspaceUrl = (ctx: ConsoleContext) => `/orgs/${ctx.state.console.orgId}/workspaces/${encodeURIComponent(ctx.params.workspaceId!)}`;

export const workspacesSection: ConsoleSection = {
  path: 'workspaces',
  label: 'Workspaces',
  // Listing needs only org:read in the API; changes need workspaces:manage (offered only then).
  permissions: ['workspaces:manage', 'org:read'],
  routes(pages) {
    pages.get('/workspaces', list);
    pages.post('/workspaces', (ctx) => act(ctx, back(ctx), async () => {
      const c = ctx.state.console;
      const w = await c.api.post<Workspace>(`/orgs/${c.orgId}/workspaces`, { name: formField(ctx, 'name') });
      return `The workspace "${w.name}" was created.`;
    }));
    pages.post('/workspaces/:workspaceId/rename', (ctx) => act(ctx, back(ctx), async () => {
      const w = await ctx.state.console.api.patch<Workspace>(workspaceUrl(ctx), { name: formField(ctx, 'name') });
      return `The workspace is now named "${w.name}".`;
    }));
    pages.post('/workspaces/:workspaceId/delete', (ctx) => act(ctx, back(ctx), async () => {
      await ctx.state.console.api.delete(workspaceUrl(ctx));
      return 'The workspace was deleted, with the keys bound to it.';
    }));
  },
};
