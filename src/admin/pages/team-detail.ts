import type { ComponentChildren } from 'preact';
import { act, formField, type ConsoleContext, type ConsoleRequest, type OrgPages } from '../console-context.ts';
import { Field, html, PostForm, Table, formatDate, type VNode } from '../view.ts';
import { orgMembers, personCell, readPages } from './org-people.ts';

// One team's page: its name, its people and their team roles.

export interface Team {
  id: string;
  name: string;
  description: string | null;
  createdAt: string;
}

interface TeamMember {
  userId: string;
  email: string;
  name: string | null;
  role: 'admin' | 'member';
  joinedAt: string;
}

const teamRoles: [string, string][] = [['member', 'Member'], ['admin', 'Team admin']];
const pathOf = (c: ConsoleRequest, teamId: string) => `${c.base}/teams/${encodeURIComponent(teamId)}`;

function memberRows(c: ConsoleRequest, team: Team, members: TeamMember[], manage: boolean): ComponentChildren[][] {
  const at = pathOf(c, team.id);
  return members.map((m) => [
    personCell(m),
    manage
      ? html`<${PostForm} action=${`${at}/members/${m.userId}/role`} csrf=${c.csrf} className="inline">
          <label class="visually-hidden" for=${`team-role-${m.userId}`}>Team role of ${m.email}</label>
          <select id=${`team-role-${m.userId}`} name="role">${teamRoles.map(([v, l]) => html`<option value=${v} selected=${v === m.role}>${l}</option>`)}</select>
          <button type="submit" class="secondary" aria-label=${`Change the team role of ${m.email}`}>Change</button>
        <//>`
      : html`<span>${m.role === 'admin' ? 'Team admin' : 'Member'}</span>`,
    html`<span>${formatDate(m.joinedAt)}</span>`,
    manage
      ? html`<${PostForm} action=${`${at}/members/${m.userId}/remove`} csrf=${c.csrf} confirm=${`Remove ${m.email} from ${team.name}?`}>
          <button type="submit" class="danger" aria-label=${`Remove ${m.email} from the team`}>Remove</button>
        <//>`
      : html`<span></span>`,
  ]);
}

async function addForm(c: ConsoleRequest, team: Team, members: TeamMember[]): Promise<VNode> {
  const inTeam = new Set(members.map((m) => m.userId));
  const candidates = (await orgMembers(c)).filter((m) => !inTeam.has(m.userId));
  if (candidates.length === 0) return html`<p>Every member of the organization is in this team.</p>`;
  return html`<${PostForm} action=${`${pathOf(c, team.id)}/members`} csrf=${c.csrf}>
    <${Field} name="userId" label="Member of the organization" options=${candidates.map((m) => [m.userId, m.name ? `${m.name} (${m.email})` : m.email])} />
    <${Field} name="role" label="Team role" value="member" options=${teamRoles} />
    <button type="submit">Add to team</button>
  <//>`;
}

function settingsForm(c: ConsoleRequest, team: Team): VNode {
  const at = pathOf(c, team.id);
  return html`<h2>Team settings</h2>
    <${PostForm} action=${at} csrf=${c.csrf}>
      <${Field} name="name" label="Team name" value=${team.name} required autocomplete="off" />
      <${Field} name="description" label="Description" value=${team.description ?? ''} />
      <button type="submit">Save team</button>
    <//>
    <h2>Delete the team</h2>
    <p>Its people stay in the organization.</p>
    <${PostForm} action=${`${at}/delete`} csrf=${c.csrf} confirm=${`Delete the team ${team.name}?`}>
      <button type="submit" class="danger">Delete team</button>
    <//>`;
}

export async function teamPage(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const api = `/orgs/${c.orgId}/teams/${encodeURIComponent(ctx.params.teamId!)}`;
  const [team, members] = await Promise.all([c.api.get<Team>(api), readPages<TeamMember>(c, `${api}/members`)]);
  // A team admin runs the team's membership without teams:manage (the API's rule too).
  const manage = c.can('teams:manage') || members.some((m) => m.userId === c.session.userId && m.role === 'admin');
  await c.page(`Team: ${team.name}`, html`
    <p><a href=${`${c.base}/teams`}>All teams</a></p>
    ${team.description ? html`<p>${team.description}</p>` : null}
    <h2>Members</h2>
    <${Table} caption=${`Members of ${team.name}`} head=${['Person', 'Team role', 'Since', '']} rows=${memberRows(c, team, members, manage)} empty="Nobody is in this team yet." />
    ${manage && c.can('members:read') ? html`<h2>Add a member</h2>${await addForm(c, team, members)}` : null}
    ${c.can('teams:manage') ? settingsForm(c, team) : null}`);
}

/** The membership posts: each acts through the API and comes back to the team's page. */
export function teamMemberRoutes(pages: OrgPages): void {
  const back = (ctx: ConsoleContext) => pathOf(ctx.state.console, ctx.params.teamId!);
  const api = (ctx: ConsoleContext, rest = '') => `/orgs/${ctx.state.console.orgId}/teams/${encodeURIComponent(ctx.params.teamId!)}/members${rest}`;
  pages.post('/teams/:teamId/members', (ctx) => act(ctx, back(ctx), async () => {
    await ctx.state.console.api.post(api(ctx), { userId: formField(ctx, 'userId'), role: formField(ctx, 'role') });
    return 'The member was added to the team.';
  }));
  pages.post('/teams/:teamId/members/:userId/role', (ctx) => act(ctx, back(ctx), async () => {
    await ctx.state.console.api.patch(api(ctx, `/${encodeURIComponent(ctx.params.userId!)}`), { role: formField(ctx, 'role') });
    return 'The team role was changed.';
  }));
  pages.post('/teams/:teamId/members/:userId/remove', (ctx) => act(ctx, back(ctx), async () => {
    await ctx.state.console.api.delete(api(ctx, `/${encodeURIComponent(ctx.params.userId!)}`));
    return 'The member was removed from the team.';
  }));
}
