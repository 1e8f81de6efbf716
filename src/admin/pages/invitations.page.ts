import { ApiProblem } from '../console-api.ts';
import { act, formField, type ConsoleContext, type ConsoleRequest, type ConsoleSection } from '../console-context.ts';
import { Field, html, OnceShown, PostForm, Table, formatDate, type VNode } from '../view.ts';
import { formError, grantable, orgMembers, orgRoles, type OrgRole } from './org-people.ts';

interface Invitation {
  id: string;
  email: string;
  role: string;
  status: string;
  invitedBy: string | null;
  expiresAt: string;
}

interface Draft {
  email: string;
  role: string;
  error?: ApiProblem;
}

const path = (c: ConsoleRequest) => `${c.base}/invitations`;

/** Who invited, by email; without members:read the console cannot say and shows nothing. */
async function inviters(c: ConsoleRequest): Promise<Map<string, string>> {
  if (!c.can('members:read')) return new Map();
  return new Map((await orgMembers(c)).map((m) => [m.userId, m.email]));
}

function rowsOf(c: ConsoleRequest, invitations: Invitation[], roles: Map<string, string>, by: Map<string, string>) {
  return invitations.map((i) => [
    i.email,
    roles.get(i.role) ?? i.role,
    formatDate(i.expiresAt),
    i.invitedBy ? (by.get(i.invitedBy) ?? 'A former member') : '—',
    html`<div class="actions tight">
      <${PostForm} action=${`${path(c)}/${i.id}/resend`} csrf=${c.csrf}>
        <button type="submit" class="secondary" aria-label=${`Resend the invitation to ${i.email}`}>Resend</button>
      <//>
      <${PostForm} action=${`${path(c)}/${i.id}/cancel`} csrf=${c.csrf} confirm=${`Cancel the invitation to ${i.email}?`}>
        <button type="submit" class="danger" aria-label=${`Cancel the invitation to ${i.email}`}>Cancel</button>
      <//>
    </div>`,
  ]);
}

/** `roles` null: the caller may invite but not list roles (a custom role), so the key is typed. */
function inviteForm(c: ConsoleRequest, roles: OrgRole[] | null, draft: Draft): VNode {
  if (roles?.length === 0) return html`<p>There is no role you may grant, so you cannot invite anyone.</p>`;
  return html`<${PostForm} action=${path(c)} csrf=${c.csrf}>
    ${formError(draft.error)}
    <${Field} name="email" label="Email" type="email" value=${draft.email} required autocomplete="off" />
    ${roles
      ? html`<${Field} name="role" label="Role" value=${draft.role || 'member'} options=${roles.map((r) => [r.key, r.name])} hint="Only roles you may grant are listed." />`
      : html`<${Field} name="role" label="Role" value=${draft.role || 'member'} required autocomplete="off" hint="The role's key, such as member or viewer (your role cannot list roles)." />`}
    <button type="submit">Send invitation</button>
  <//>`;
}

/** The list, with the invite form (rendered again with what was typed when the API refused it). */
async function list(ctx: ConsoleContext, draft: Draft = { email: '', role: '' }, status = 200): Promise<void> {
  const c = ctx.state.console;
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  const [pending, expired, roles, by] = await Promise.all([
    c.api.get<{ data: Invitation[]; nextCursor: string | null }>(`/orgs/${c.orgId}/invitations`, { status: 'pending', limit: '100', cursor }),
    c.api.get<{ data: Invitation[] }>(`/orgs/${c.orgId}/invitations`, { status: 'expired', limit: '50' }),
    c.can('roles:read') ? orgRoles(c) : Promise.resolve(null),
    inviters(c),
  ]);
  const roleNames = new Map((roles ?? []).map((r) => [r.key, r.name]));
  const head = ['Email', 'Role', 'Expires', 'Invited by', ''];
  await c.page('Invitations', html`
    <h2>Invite someone</h2>
    ${inviteForm(c, roles && grantable(roles, c), draft)}
    <h2>Pending</h2>
    <${Table} caption="Pending invitations" head=${head} rows=${rowsOf(c, pending.data, roleNames, by)} empty="No pending invitations." />
    ${pending.nextCursor ? html`<p><a href=${`${path(c)}?cursor=${encodeURIComponent(pending.nextCursor)}`}>Next page</a></p>` : null}
    ${expired.data.length ? html`<h2>Expired</h2>
      <p>These links no longer work. Resend one to mail a new link.</p>
      <${Table} caption="Expired invitations" head=${head} rows=${rowsOf(c, expired.data, roleNames, by)} />` : null}`, status);
}

/** The link is in this response only (the API keeps a hash): shown once, never in a redirect. */
async function issued(c: ConsoleRequest, title: string, invitation: Invitation & { acceptUrl: string }): Promise<void> {
  await c.page(title, html`
    <p>An email with this link is on its way to <strong>${invitation.email}</strong> (role ${invitation.role}). It works until ${formatDate(invitation.expiresAt)}.</p>
    <${OnceShown} label="Invitation link" value=${invitation.acceptUrl} />
    <p><a href=${path(c)}>Back to invitations</a></p>`);
}

async function send(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const draft = { email: formField(ctx, 'email'), role: formField(ctx, 'role') };
  let invitation: Invitation & { acceptUrl: string };
  try {
    invitation = await c.api.post(`/orgs/${c.orgId}/invitations`, { email: draft.email, role: draft.role });
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    return list(ctx, { ...draft, error: err }, err.status);
  }
  await issued(c, 'Invitation sent', invitation);
}

async function resend(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  let invitation: Invitation & { acceptUrl: string };
  try {
    invitation = await c.api.post(`/orgs/${c.orgId}/invitations/${encodeURIComponent(ctx.params.id!)}/resend`);
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    return c.done(path(c), err.message, 'error');
  }
  await issued(c, 'Invitation sent again', invitation);
}

export const invitationsSection: ConsoleSection = {
  path: 'invitations',
  label: 'Invitations',
  permissions: ['members:invite'],
  routes(pages) {
    pages.get('/invitations', (ctx) => list(ctx));
    pages.post('/invitations', send);
    pages.post('/invitations/:id/resend', resend);
    pages.post('/invitations/:id/cancel', (ctx) => act(ctx, path(ctx.state.console), async () => {
      const c = ctx.state.console;
      const cancelled = await c.api.delete<Invitation>(`/orgs/${c.orgId}/invitations/${encodeURIComponent(ctx.params.id!)}`);
      return `The invitation to ${cancelled.email} was cancelled; its link no longer works.`;
    }));
  },
};
