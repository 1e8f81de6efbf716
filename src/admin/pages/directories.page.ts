import { ApiProblem } from '../console-api.ts';
import { act, formField, type ConsoleContext, type ConsoleSection } from '../console-context.ts';
import { Field, html, OnceShown, PostForm, Table, formatDate } from '../view.ts';
import { directoryPage } from './directory-detail.ts';

// SCIM directories: the list, creation (base URL and token on the POST's own response, shown
// once), token rotation and revocation; a directory's page is in directory-detail.ts.

export interface Directory {
  id: string; name: string; defaultRole: string; scimBaseUrl: string; tokenActive: boolean; tokenCreatedAt: string | null; disabledByPlan: boolean;
}

/** The roles to offer: the API's list when this credential may read it, else the built-in ones below owner. */
export async function roleOptions(ctx: ConsoleContext): Promise<[string, string][]> {
  const c = ctx.state.console;
  try {
    const roles = await c.api.get<{ data: { key: string; name: string }[] }>(`/orgs/${c.orgId}/roles`);
    return roles.data.filter((r) => r.key !== 'owner').map((r) => [r.key, r.name]);
  } catch (err) {
    if (!(err instanceof ApiProblem) || err.status !== 403) throw err;
    return [['admin', 'Admin'], ['member', 'Member'], ['viewer', 'Viewer']];
  }
}

async function list(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const page = await c.api.get<{ data: Directory[] }>(`/orgs/${c.orgId}/directories`, { limit: '100' });
  const rows = page.data.map((d) => [
    html`<a href=${`${c.base}/directories/${d.id}`}>${d.name}</a>`, d.defaultRole,
    d.disabledByPlan ? 'Disabled by plan' : d.tokenActive ? `Token since ${formatDate(d.tokenCreatedAt)}` : 'No token: the IdP is refused',
  ]);
  await c.page('SCIM directories', html`
    <p>A directory lets your identity provider create, update and remove people and groups over SCIM 2.0.</p>
    <${Table} caption="Directories" head=${['Name', 'Default role', 'Token']} rows=${rows} empty="No directory yet." />
    <h2>New directory</h2>
    <${PostForm} action=${`${c.base}/directories`} csrf=${c.csrf}>
      <${Field} name="name" label="Name" required=${true} hint="For example “Okta”." />
      <${Field} name="defaultRole" label="Default role" options=${await roleOptions(ctx)} value="member" required=${true} hint="The role of people the IdP adds, unless a group rule gives another." />
      <button type="submit">Create directory</button>
    <//>`);
}

/** The SCIM base URL and the token, on this response only (200): the API never shows the token again. */
export async function showToken(ctx: ConsoleContext, title: string, directory: { id: string; scimBaseUrl: string }, token: string): Promise<void> {
  const c = ctx.state.console;
  await c.page(title, html`
    <p>Give your identity provider these two values (SCIM connector base URL and API token, bearer).</p>
    <dl class="values"><dt>SCIM base URL</dt><dd class="mono">${directory.scimBaseUrl}</dd></dl>
    <${OnceShown} label="Bearer token" value=${token} />
    <p><a href=${`${c.base}/directories/${directory.id}`}>I have copied it: open the directory</a></p>`);
}

async function create(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  let created: Directory & { token: string };
  try {
    created = await c.api.post(`/orgs/${c.orgId}/directories`, { name: formField(ctx, 'name'), defaultRole: formField(ctx, 'defaultRole') });
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    return c.done(`${c.base}/directories`, err.message, 'error');
  }
  await showToken(ctx, `Directory ${created.name} created`, created, created.token);
}

async function rotate(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const id = encodeURIComponent(ctx.params.id!);
  let token: string;
  try {
    ({ token } = await c.api.post<{ token: string }>(`/orgs/${c.orgId}/directories/${id}/token`));
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    return c.done(`${c.base}/directories/${id}`, err.message, 'error');
  }
  const directory = await c.api.get<Directory>(`/orgs/${c.orgId}/directories/${id}`);
  await showToken(ctx, 'New token', directory, token);
}

export const directoriesSection: ConsoleSection = {
  path: 'directories',
  label: 'SCIM directories',
  permissions: ['directories:manage'],
  routes(pages) {
    pages.get('/directories', list);
    pages.post('/directories', create);
    pages.get('/directories/:id', directoryPage);
    pages.post('/directories/:id/token', rotate);
    pages.post('/directories/:id/token/revoke', (ctx) => act(ctx, `${ctx.state.console.base}/directories/${encodeURIComponent(ctx.params.id!)}`, async () => {
      const c = ctx.state.console;
      await c.api.delete(`/orgs/${c.orgId}/directories/${encodeURIComponent(ctx.params.id!)}/token`);
      return 'The token was revoked: the identity provider is refused until you issue a new one.';
    }));
    pages.post('/directories/:id/rules', (ctx) => act(ctx, `${ctx.state.console.base}/directories/${encodeURIComponent(ctx.params.id!)}`, async () => {
      const c = ctx.state.console;
      await c.api.post(`/orgs/${c.orgId}/directories/${encodeURIComponent(ctx.params.id!)}/rules`, { groupId: formField(ctx, 'groupId'), role: formField(ctx, 'role') });
      return 'The rule was added; the group\'s members have their roles now.';
    }));
    pages.post('/directories/:id/rules/:ruleId/remove', (ctx) => act(ctx, `${ctx.state.console.base}/directories/${encodeURIComponent(ctx.params.id!)}`, async () => {
      const c = ctx.state.console;
      await c.api.delete(`/orgs/${c.orgId}/directories/${encodeURIComponent(ctx.params.id!)}/rules/${encodeURIComponent(ctx.params.ruleId!)}`);
      return 'The rule was removed.';
    }));
    pages.post('/directories/:id/default-role', (ctx) => act(ctx, `${ctx.state.console.base}/directories/${encodeURIComponent(ctx.params.id!)}`, async () => {
      const c = ctx.state.console;
      await c.api.patch(`/orgs/${c.orgId}/directories/${encodeURIComponent(ctx.params.id!)}`, { defaultRole: formField(ctx, 'defaultRole') });
      return 'The default role was changed.';
    }));
  },
};
