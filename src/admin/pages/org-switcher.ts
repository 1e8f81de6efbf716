import type { ConsoleApi } from '../console-api.ts';
import type { ConsoleSession } from '../console-session.ts';
import { html, type VNode } from '../view.ts';

interface OrgSummary {
  id: string;
  name: string;
  slug: string;
}

/** The header of signed-in pages: which org, a switcher to the others, and sign-out. */
export async function orgSwitcher(api: ConsoleApi, session: ConsoleSession): Promise<VNode> {
  const orgs = (await api.get<{ data: OrgSummary[] }>('/me/orgs')).data;
  const current = orgs.find((o) => o.id === session.orgId);
  return html`<div class="session">
    <form method="get" action="/admin/switch" class="switcher">
      <label for="org-switch">Organization</label>
      <select id="org-switch" name="org">
        ${orgs.map((o) => html`<option value=${o.id} selected=${o.id === session.orgId}>${o.name}</option>`)}
      </select>
      <button type="submit" class="secondary">Switch</button>
    </form>
    <span class="role">${current ? `${session.role} of ${current.name}` : session.role}</span>
    <form method="post" action="/admin/sign-out">
      <input type="hidden" name="csrf" value=${session.csrf} />
      <button type="submit" class="secondary">Sign out</button>
    </form>
  </div>`;
}
