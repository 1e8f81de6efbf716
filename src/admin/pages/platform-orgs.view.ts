import { Field, formatDate, html, Table, type VNode } from '../view.ts';

// The platform operators' orgs table (platform.routes.ts), from GET /api/v1/platform/orgs: only
// what that answer holds, which is counts, dates and plan keys.

export interface PlatformOrg {
  id: string;
  name: string;
  slug: string;
  createdAt: string;
  plan: string;
  billingStatus: string;
  members: number;
  pendingInvitations: number;
  sso: { connections: number; disabled: number; disabledByPlan: number; certificateExpiresAt: string | null };
  scim: { directories: number; lastSyncAt: string | null };
}

const day = 24 * 3600 * 1000;
/** As the connections API warns (idp-certificates.ts): 30 days before an IdP certificate ends. */
const warnWithin = 30 * day;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function certificate(expiresAt: string | null, now: number): VNode | string {
  if (!expiresAt) return '';
  const left = Date.parse(expiresAt) - now;
  if (left <= 0) return html`<p class="warning"><strong>IdP certificate expired ${formatDate(expiresAt)}</strong></p>`;
  if (left <= warnWithin) return html`<p class="warning"><strong>IdP certificate expires in ${plural(Math.ceil(left / day), 'day')}</strong> (${formatDate(expiresAt)})</p>`;
  return html`<br /><small>Certificates valid until ${formatDate(expiresAt)}</small>`;
}

function ssoCell(sso: PlatformOrg['sso'], now: number): VNode | string {
  if (sso.connections === 0) return 'None';
  const off = [sso.disabled ? `${sso.disabled} turned off` : '', sso.disabledByPlan ? `${sso.disabledByPlan} disabled by plan` : ''].filter(Boolean);
  return html`${plural(sso.connections, 'connection')}${off.length ? ` (${off.join(', ')})` : ''}${certificate(sso.certificateExpiresAt, now)}`;
}

function scimCell(scim: PlatformOrg['scim']): VNode | string {
  if (scim.directories === 0) return 'None';
  return html`${plural(scim.directories, 'directory', 'directories')}<br /><small>Last sync ${scim.lastSyncAt ? formatDate(scim.lastSyncAt) : 'never'}</small>`;
}

export function orgsTable(orgs: readonly PlatformOrg[], now = Date.now()): VNode {
  const rows = orgs.map((o) => [
    html`<span>${o.name}</span><br /><small class="mono">${o.slug}</small>`,
    html`${o.plan}<br /><small>${o.billingStatus === 'none' ? 'No subscription' : o.billingStatus}</small>`,
    String(o.members),
    String(o.pendingInvitations),
    ssoCell(o.sso, now),
    scimCell(o.scim),
    formatDate(o.createdAt),
  ]);
  return html`<${Table} caption="Organizations" head=${['Organization', 'Plan', 'Members', 'Invitations pending', 'SSO', 'SCIM', 'Created']} rows=${rows} empty="No organization matches." />`;
}

export function searchForm(q: string): VNode {
  return html`<form method="get" action="/admin/platform" class="inline" role="search">
    <${Field} name="q" label="Name or slug" type="search" value=${q} />
    <button type="submit" class="secondary">Search</button>
  </form>`;
}

export function signInForm(error?: string): VNode {
  return html`${error ? html`<p class="flash error" role="alert">${error}</p>` : null}
    <form method="post" action="/admin/platform/sign-in">
      <${Field} name="key" label="Platform API key" type="password" autocomplete="off" required=${true} hint="A key made with gatehouse platform-keys create (ghp_…). It is kept in an encrypted cookie for 8 hours." />
      <button type="submit">Sign in</button>
    </form>`;
}
