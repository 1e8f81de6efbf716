import { act, formField, type ConsoleContext, type ConsoleSection } from '../console-context.ts';
import { html, PostForm, Table, formatDate } from '../view.ts';

interface Member {
  userId: string;
  email: string;
  name: string | null;
  role: string;
  source: string;
  joinedAt: string;
}

interface Role {
  key: string;
  name: string;
}

const sourceLabels: Record<string, string> = { invite: 'Invitation', sso: 'SSO', scim: 'SCIM', domain: 'Domain auto-join', bootstrap: 'Bootstrap', created: 'Created the org', signup: 'Sign-up' };

/** A page of members, `?cursor=` for the next one (the API's cursor, passed through). */
async function list(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  const page = await c.api.get<{ data: Member[]; nextCursor: string | null }>(`/orgs/${c.orgId}/members`, { limit: '100', cursor });
  const roles = c.can('members:update') ? (await c.api.get<{ data: Role[] }>(`/orgs/${c.orgId}/roles`)).data.filter((r) => r.key !== 'owner') : [];
  const rows = page.data.map((m) => [
    m.name ? html`<span>${m.name}</span><br /><small>${m.email}</small>` : m.email,
    roles.length && m.role !== 'owner' && m.userId !== c.session.userId
      ? html`<${PostForm} action=${`${c.base}/members/${m.userId}/role`} csrf=${c.csrf} className="inline">
          <label class="visually-hidden" for=${`role-${m.userId}`}>Role of ${m.email}</label>
          <select id=${`role-${m.userId}`} name="role">${roles.map((r) => html`<option value=${r.key} selected=${r.key === m.role}>${r.name}</option>`)}</select>
          <button type="submit" class="secondary">Change role</button>
        <//>`
      : m.role,
    sourceLabels[m.source] ?? m.source,
    formatDate(m.joinedAt),
    c.can('members:remove') && m.role !== 'owner' && m.userId !== c.session.userId
      ? html`<${PostForm} action=${`${c.base}/members/${m.userId}/remove`} csrf=${c.csrf} confirm=${`Remove ${m.email} from the organization?`}>
          <button type="submit" class="danger" aria-label=${`Remove ${m.email}`}>Remove</button>
        <//>`
      : '',
  ]);
  await c.page('Members', html`
    <${Table} caption="Members" head=${['Person', 'Role', 'Joined through', 'Since', '']} rows=${rows} />
    ${page.nextCursor ? html`<p><a href=${`${c.base}/members?cursor=${encodeURIComponent(page.nextCursor)}`}>Next page</a></p>` : null}`);
}

export const membersSection: ConsoleSection = {
  path: 'members',
  label: 'Members',
  permissions: ['members:read'],
  routes(pages) {
    pages.get('/members', list);
    pages.post('/members/:userId/role', (ctx) => act(ctx, `${ctx.state.console.base}/members`, async () => {
      const c = ctx.state.console;
      await c.api.patch(`/orgs/${c.orgId}/members/${encodeURIComponent(ctx.params.userId!)}`, { role: formField(ctx, 'role') });
      return 'The role was changed.';
    }));
    pages.post('/members/:userId/remove', (ctx) => act(ctx, `${ctx.state.console.base}/members`, async () => {
      const c = ctx.state.console;
      await c.api.delete(`/orgs/${c.orgId}/members/${encodeURIComponent(ctx.params.userId!)}`);
      return 'The member was removed.';
    }));
  },
};
