import { ApiProblem } from '../console-api.ts';
import { act, formField, type ConsoleContext, type ConsoleRequest, type ConsoleSection } from '../console-context.ts';
import { Field, html, PostForm, Table, formatDate } from '../view.ts';
import { formError } from './org-people.ts';
import { teamMemberRoutes, teamPage, type Team } from './team-detail.ts';

const teamsPath = (c: ConsoleRequest) => `${c.base}/teams`;
const teamPath = (c: ConsoleRequest, id: string) => `${teamsPath(c)}/${encodeURIComponent(id)}`;

async function list(ctx: ConsoleContext, draft = { name: '', description: '' }, error?: ApiProblem): Promise<void> {
  const c = ctx.state.console;
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  const page = await c.api.get<{ data: Team[]; nextCursor: string | null }>(`/orgs/${c.orgId}/teams`, { limit: '100', cursor });
  const rows = page.data.map((t) => [html`<a href=${teamPath(c, t.id)}>${t.name}</a>`, t.description ?? '—', formatDate(t.createdAt)]);
  await c.page('Teams', html`
    <${Table} caption="Teams" head=${['Team', 'Description', 'Created']} rows=${rows} empty="No teams yet." />
    ${page.nextCursor ? html`<p><a href=${`${teamsPath(c)}?cursor=${encodeURIComponent(page.nextCursor)}`}>Next page</a></p>` : null}
    ${c.can('teams:manage') ? html`<h2>Create a team</h2>
      <${PostForm} action=${teamsPath(c)} csrf=${c.csrf}>
        ${formError(error)}
        <${Field} name="name" label="Team name" value=${draft.name} required autocomplete="off" />
        <${Field} name="description" label="Description" value=${draft.description} hint="Optional." />
        <button type="submit">Create team</button>
      <//>` : null}`, error ? error.status : 200);
}

async function create(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const draft = { name: formField(ctx, 'name'), description: formField(ctx, 'description') };
  let team: Team;
  try {
    team = await c.api.post(`/orgs/${c.orgId}/teams`, { name: draft.name, ...(draft.description ? { description: draft.description } : {}) });
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    return list(ctx, draft, err);
  }
  c.done(teamPath(c, team.id), `The team ${team.name} was created.`);
}

export const teamsSection: ConsoleSection = {
  path: 'teams',
  label: 'Teams',
  permissions: ['teams:read'],
  routes(pages) {
    pages.get('/teams', (ctx) => list(ctx));
    pages.post('/teams', create);
    pages.get('/teams/:teamId', teamPage);
    pages.post('/teams/:teamId', (ctx) => act(ctx, teamPath(ctx.state.console, ctx.params.teamId!), async () => {
      const c = ctx.state.console;
      const description = formField(ctx, 'description');
      await c.api.patch(`/orgs/${c.orgId}/teams/${encodeURIComponent(ctx.params.teamId!)}`, { name: formField(ctx, 'name'), description: description || null });
      return 'The team was saved.';
    }));
    pages.post('/teams/:teamId/delete', (ctx) => act(ctx, teamPath(ctx.state.console, ctx.params.teamId!), async () => {
      const c = ctx.state.console;
      await c.api.delete(`/orgs/${c.orgId}/teams/${encodeURIComponent(ctx.params.teamId!)}`);
      c.done(teamsPath(c), 'The team was deleted; its people stay in the organization.');
    }));
    teamMemberRoutes(pages);
  },
};
