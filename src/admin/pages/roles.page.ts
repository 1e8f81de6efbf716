import { act, type ConsoleContext, type ConsoleRequest, type ConsoleSection } from '../console-context.ts';
import { html, Table, type VNode } from '../view.ts';
import { orgRoles, type OrgRole } from './org-people.ts';
import { editRole, newRole, permissionCatalogue, saveRole, type PermissionEntry } from './role-form.ts';

const rolesPath = (c: ConsoleRequest) => `${c.base}/roles`;
const rolePath = (c: ConsoleRequest, key: string) => `${rolesPath(c)}/${encodeURIComponent(key)}`;

/** A matrix cell: a mark for the eye, a word for screen readers. */
function mark(held: boolean): VNode {
  return held
    ? html`<span aria-hidden="true">✓</span><span class="visually-hidden">Yes</span>`
    : html`<span aria-hidden="true" class="muted">–</span><span class="visually-hidden">No</span>`;
}

/** Permissions as rows (each named by a row header), roles as columns. */
function Matrix({ roles, permissions }: { roles: OrgRole[]; permissions: PermissionEntry[] }): VNode {
  const holds = new Map(roles.map((r) => [r.key, new Set(r.permissions)]));
  return html`<div class="table" role="region" aria-label="Permission matrix" tabindex="0">
    <table class="matrix">
      <caption>Permission matrix: which role holds which permission</caption>
      <thead><tr>
        <th scope="col">Permission</th>
        ${roles.map((r) => html`<th scope="col">${r.name}${r.builtin ? null : html`<br /><small>custom</small>`}</th>`)}
      </tr></thead>
      <tbody>${permissions.map((p) => html`<tr>
        <th scope="row"><code>${p.key}</code><br /><small>${p.description}</small></th>
        ${roles.map((r) => html`<td>${mark(holds.get(r.key)!.has(p.key))}</td>`)}
      </tr>`)}</tbody>
    </table>
  </div>`;
}

async function list(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const [roles, permissions] = await Promise.all([orgRoles(c), permissionCatalogue(c)]);
  const manage = c.can('roles:manage');
  const rows = roles.map((r) => [
    manage && !r.builtin ? html`<a href=${`${rolePath(c, r.key)}/edit`}>${r.name}</a>` : r.name,
    html`<code>${r.key}</code>`,
    r.builtin ? 'Built-in' : 'Custom',
    r.description ?? '—',
  ]);
  await c.page('Roles', html`
    ${manage ? html`<p class="actions"><a class="button" href=${`${rolesPath(c)}/new`}>Create a custom role</a></p>` : null}
    <${Table} caption="Roles" head=${['Role', 'Key', 'Kind', 'Description']} rows=${rows} />
    <h2>Permissions</h2>
    <${Matrix} roles=${roles} permissions=${permissions} />`);
}

export const rolesSection: ConsoleSection = {
  path: 'roles',
  label: 'Roles',
  permissions: ['roles:read'],
  routes(pages) {
    pages.get('/roles', list);
    pages.get('/roles/new', (ctx) => newRole(ctx));
    pages.post('/roles', (ctx) => saveRole(ctx, null));
    // /edit, not /roles/:key: "new" is a valid role key.
    pages.get('/roles/:key/edit', (ctx) => editRole(ctx));
    pages.post('/roles/:key', (ctx) => saveRole(ctx, ctx.params.key!));
    pages.post('/roles/:key/delete', (ctx) => act(ctx, `${rolePath(ctx.state.console, ctx.params.key!)}/edit`, async () => {
      const c = ctx.state.console;
      await c.api.delete(`/orgs/${c.orgId}/roles/${encodeURIComponent(ctx.params.key!)}`);
      c.done(rolesPath(c), `The role ${ctx.params.key!} was deleted.`);
    }));
  },
};
