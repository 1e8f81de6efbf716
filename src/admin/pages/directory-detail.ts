import type { ConsoleContext } from '../console-context.ts';
import { Field, html, PostForm, Table, formatDate } from '../view.ts';
import { roleOptions, type Directory } from './directories.page.ts';

interface DirectoryUser { id: string; userName: string; email: string | null; active: boolean; updatedAt: string }
interface DirectoryGroup { id: string; displayName: string; memberCount: number }
interface Rule { id: string; groupDisplayName: string; role: string | null; teamId: string | null }

/** A directory: what the IdP pushed (users, groups), its group → role rules, default role and token. */
export async function directoryPage(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const id = encodeURIComponent(ctx.params.id!);
  const path = `/orgs/${c.orgId}/directories/${id}`;
  const d = await c.api.get<Directory>(path);
  const [users, groups, rules, roles] = await Promise.all([
    c.api.get<{ data: DirectoryUser[] }>(`${path}/users`, { limit: '100' }),
    c.api.get<{ data: DirectoryGroup[] }>(`${path}/groups`, { limit: '100' }),
    c.api.get<{ data: Rule[] }>(`${path}/rules`, { limit: '100' }),
    roleOptions(ctx),
  ]);
  // The API keeps no sync log; the newest change the IdP made to a user is the best "last sync".
  const lastSync = users.data.map((u) => u.updatedAt).sort().at(-1) ?? null;
  const base = `${c.base}/directories/${d.id}`;
  await c.page(d.name, html`
    <dl class="values">
      <dt>SCIM base URL</dt><dd class="mono">${d.scimBaseUrl}</dd>
      <dt>Token</dt><dd>${d.disabledByPlan ? 'Disabled by plan' : d.tokenActive ? `Active since ${formatDate(d.tokenCreatedAt)}` : 'None: the IdP is refused'}</dd>
      <dt>Last change from the IdP</dt><dd>${lastSync ? formatDate(lastSync) : 'Nothing pushed yet'}</dd>
    </dl>
    <div class="actions">
      <${PostForm} action=${`${base}/token`} csrf=${c.csrf} confirm="Issue a new token? The current one stops working at once."><button type="submit" class="secondary">Rotate token</button><//>
      ${d.tokenActive ? html`<${PostForm} action=${`${base}/token/revoke`} csrf=${c.csrf} confirm="Revoke the token? The IdP is refused until a new one is issued."><button type="submit" class="danger">Revoke token</button><//>` : null}
    </div>
    <h2>Users</h2>
    <${Table} caption="Provisioned users" head=${['User name', 'Email', 'Status', 'Updated']}
      rows=${users.data.map((u) => [u.userName, u.email ?? '—', u.active ? 'Active' : 'Deactivated', formatDate(u.updatedAt)])} empty="The identity provider has pushed no user yet." />
    <h2>Groups</h2>
    <${Table} caption="Provisioned groups" head=${['Group', 'Members']} rows=${groups.data.map((g) => [g.displayName, String(g.memberCount)])} empty="The identity provider has pushed no group yet." />
    <h2>Group rules</h2>
    <${Table} caption="Group → role rules" head=${['Group', 'Gives', '']} rows=${rules.data.map((r) => [
      r.groupDisplayName, r.role ? `Role ${r.role}` : `Team ${r.teamId}`,
      html`<${PostForm} action=${`${base}/rules/${r.id}/remove`} csrf=${c.csrf} confirm=${`Remove the rule for ${r.groupDisplayName}?`}>
        <button type="submit" class="danger" aria-label=${`Remove the rule for ${r.groupDisplayName}`}>Remove</button><//>`,
    ])} empty="No rule: everyone gets the default role." />
    ${groups.data.length ? html`<${PostForm} action=${`${base}/rules`} csrf=${c.csrf}>
      <${Field} name="groupId" label="Group" options=${groups.data.map((g) => [g.id, g.displayName])} required=${true} />
      <${Field} name="role" label="Role for its members" options=${roles} required=${true} />
      <button type="submit">Add rule</button>
    <//>` : null}
    <h2>Default role</h2>
    <${PostForm} action=${`${base}/default-role`} csrf=${c.csrf}>
      <${Field} name="defaultRole" label="Default role" options=${roles} value=${d.defaultRole} required=${true} hint="For people in no group with a rule." />
      <button type="submit">Save default role</button>
    <//>
    <p><a href=${`${c.base}/directories`}>All directories</a></p>`);
}
