import { ApiProblem } from '../console-api.ts';
import { formField, type ConsoleContext, type ConsoleRequest } from '../console-context.ts';
import { Field, html, PostForm, type VNode } from '../view.ts';
import { formError, formList, orgRoles } from './org-people.ts';

// Creating and editing a custom role. Built-in roles are fixed; the API refuses to change them.

export interface PermissionEntry {
  key: string;
  description: string;
  grantable: boolean;
  source: 'gatehouse' | 'product';
}

interface RoleDraft {
  key: string;
  name: string;
  description: string;
  permissions: string[];
}

export async function permissionCatalogue(c: ConsoleRequest): Promise<PermissionEntry[]> {
  return (await c.api.get<{ data: PermissionEntry[] }>('/permissions')).data;
}

const base = (c: ConsoleRequest) => `${c.base}/roles`;

/**
 * The boxes offered: permissions a custom role may hold (never the owner's) that the caller holds
 * too, plus any the role already has, so saving never drops one silently.
 */
function offered(catalogue: PermissionEntry[], c: ConsoleRequest, draft: RoleDraft): PermissionEntry[] {
  const held = new Set(c.session.permissions);
  return catalogue.filter((p) => p.grantable && (held.has(p.key) || draft.permissions.includes(p.key)));
}

function PermissionBoxes({ permissions, checked }: { permissions: PermissionEntry[]; checked: string[] }): VNode {
  return html`<fieldset class="checks">
    <legend>Permissions</legend>
    <p class="hint">Only permissions you hold yourself are listed.</p>
    ${permissions.map((p, i) => html`<div class="check">
      <input type="checkbox" id=${`perm-${i}`} name="permissions" value=${p.key} checked=${checked.includes(p.key)} aria-describedby=${`perm-${i}-desc`} />
      <label for=${`perm-${i}`}><code>${p.key}</code></label>
      <p class="hint" id=${`perm-${i}-desc`}>${p.description}${p.source === 'product' ? ' (product)' : ''}</p>
    </div>`)}
  </fieldset>`;
}

async function renderForm(ctx: ConsoleContext, existing: string | null, draft: RoleDraft, error?: ApiProblem): Promise<void> {
  const c = ctx.state.console;
  const catalogue = await permissionCatalogue(c);
  const action = existing ? `${base(c)}/${encodeURIComponent(existing)}` : base(c);
  const body = html`
    <${PostForm} action=${action} csrf=${c.csrf}>
      ${formError(error)}
      ${existing
        ? html`<p>Key: <code>${existing}</code> (members, keys and invitations refer to it; it cannot change).</p>`
        : html`<${Field} name="key" label="Key" value=${draft.key} required autocomplete="off" hint="Lowercase letters, digits, - and _; 2 to 40 characters, starting with a letter. It cannot change later." />`}
      <${Field} name="name" label="Name" value=${draft.name} required autocomplete="off" />
      <${Field} name="description" label="Description" value=${draft.description} multiline />
      <${PermissionBoxes} permissions=${offered(catalogue, c, draft)} checked=${draft.permissions} />
      <div class="actions"><button type="submit">${existing ? 'Save changes' : 'Create role'}</button> <a href=${base(c)}>Cancel</a></div>
    <//>
    ${existing ? html`<h2>Delete this role</h2>
      <p>Only a role nobody uses (no member, API key, pending invitation or SSO/SCIM setting) can be deleted.</p>
      <${PostForm} action=${`${action}/delete`} csrf=${c.csrf} confirm=${`Delete the role ${existing}?`}>
        <button type="submit" class="danger">Delete role</button>
      <//>` : null}`;
  await c.page(existing ? `Edit role: ${draft.name}` : 'Create a custom role', body, error ? error.status : 200);
}

export async function newRole(ctx: ConsoleContext): Promise<void> {
  await renderForm(ctx, null, { key: '', name: '', description: '', permissions: [] });
}

export async function editRole(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const role = (await orgRoles(c)).find((r) => r.key === ctx.params.key && !r.builtin);
  if (!role) return c.page('Not found', html`<p>No such custom role in this organization. <a href=${base(c)}>Back to roles</a></p>`, 404);
  await renderForm(ctx, role.key, { key: role.key, name: role.name, description: role.description ?? '', permissions: role.permissions });
}

/** Creates (existing null) or updates a custom role; a refusal shows the form again with its reason. */
export async function saveRole(ctx: ConsoleContext, existing: string | null): Promise<void> {
  const c = ctx.state.console;
  const draft: RoleDraft = { key: existing ?? formField(ctx, 'key'), name: formField(ctx, 'name'), description: formField(ctx, 'description'), permissions: formList(ctx, 'permissions') };
  try {
    if (existing) {
      await c.api.patch(`/orgs/${c.orgId}/roles/${encodeURIComponent(existing)}`, { name: draft.name, description: draft.description || null, permissions: draft.permissions });
    } else {
      await c.api.post(`/orgs/${c.orgId}/roles`, { key: draft.key, name: draft.name, permissions: draft.permissions, ...(draft.description ? { description: draft.description } : {}) });
    }
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    return renderForm(ctx, existing, draft, err);
  }
  c.done(base(c), existing ? `The role ${draft.name} was saved.` : `The role ${draft.name} was created.`);
}
