import { act, formField, type ConsoleContext, type ConsoleSection } from '../console-context.ts';
import { Field, html, PostForm, Table, formatDate } from '../view.ts';
import { CopyValue } from './sso-values.ts';

// Email domains: claim one, create the DNS TXT record shown, verify. SSO and SCIM link accounts
// only within verified domains (DESIGN.md, identity model).

interface Domain {
  id: string; domain: string; verified: boolean; verifiedAt: string | null; verifiedBy: string | null;
  txtRecord: { name: string; type: 'TXT'; value: string };
}

async function list(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const page = await c.api.get<{ data: Domain[] }>(`/orgs/${c.orgId}/domains`, { limit: '100' });
  const rows = page.data.map((d) => [
    d.domain,
    d.verified ? html`<span class="ok-text">Verified</span> ${formatDate(d.verifiedAt)}` : 'Waiting for the DNS record',
    d.verified ? '' : html`<${PostForm} action=${`${c.base}/domains/${d.id}/verify`} csrf=${c.csrf}>
        <button type="submit" class="secondary" aria-label=${`Verify now: ${d.domain}`}>Verify now</button>
      <//>`,
  ]);
  const pending = page.data.filter((d) => !d.verified);
  await c.page('Domains', html`
    <p>Claim the email domains of your company. Single sign-on and SCIM link people's accounts only within verified domains.</p>
    <${Table} caption="Domains" head=${['Domain', 'Status', '']} rows=${rows} empty="No domain claimed yet." />
    ${pending.map((d) => html`<section aria-labelledby=${`dns-${d.id}`}>
      <h2 id=${`dns-${d.id}`}>DNS record for ${d.domain}</h2>
      <p>At your DNS provider, create this ${d.txtRecord.type} record, then press “Verify now”. DNS changes can take a few minutes to show.</p>
      <${CopyValue} id=${`name-${d.id}`} label=${`Record name (host) for ${d.domain}`} value=${d.txtRecord.name} />
      <${CopyValue} id=${`value-${d.id}`} label=${`Record value for ${d.domain}`} value=${d.txtRecord.value} />
    </section>`)}
    <h2>Claim a domain</h2>
    <${PostForm} action=${`${c.base}/domains`} csrf=${c.csrf}>
      <${Field} name="domain" label="Domain" required=${true} hint="For example example.com (no www, no @)." />
      <button type="submit">Claim domain</button>
    <//>`);
}

export const domainsSection: ConsoleSection = {
  path: 'domains',
  label: 'Domains',
  permissions: ['sso:manage'],
  routes(pages) {
    pages.get('/domains', list);
    pages.post('/domains', (ctx) => act(ctx, `${ctx.state.console.base}/domains`, async () => {
      const c = ctx.state.console;
      const d = await c.api.post<Domain>(`/orgs/${c.orgId}/domains`, { domain: formField(ctx, 'domain') });
      return `${d.domain} is claimed. Create its DNS record, then verify it.`;
    }));
    pages.post('/domains/:id/verify', (ctx) => act(ctx, `${ctx.state.console.base}/domains`, async () => {
      const c = ctx.state.console;
      const d = await c.api.post<Domain>(`/orgs/${c.orgId}/domains/${encodeURIComponent(ctx.params.id!)}/verify`);
      return `${d.domain} is verified.`;
    }));
  },
};
