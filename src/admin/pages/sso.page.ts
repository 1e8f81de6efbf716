import { act, type ConsoleContext, type ConsoleSection } from '../console-context.ts';
import { html, PostForm, Table, formatDate, type VNode } from '../view.ts';
import { createConnection, idpForm, pickIdp, showValues } from './sso-wizard.ts';
import { AttributeNames, idpChoices, SpValuesList, stepHeading, type IdpChoice } from './sso-values.ts';

// SSO connections: the list (status, certificate expiry), a connection's page (the values for the
// IdP, step 4: test), and the test's result. Only ctx.state.console is used, and links are built
// from c.base, so the setup-link portal mounts these pages as they are.

interface Certificate { subject: string; notAfter: string; expiresSoon: boolean; expired: boolean }
interface Connection {
  id: string; type: 'saml' | 'oidc'; name: string; active: boolean; disabledByPlan: boolean; preset: string; defaultRole: string;
  saml: { idpEntityId: string; certificates: Certificate[] } | null;
  sp: { entityId: string; acsUrl: string; metadataUrl: string } | null;
  oidc: { issuer: string } | null;
  redirectUri: string | null;
}
type TestResult =
  | { ok: true; email: string; subject: string; givenName: string | null; familyName: string | null; groups: string[]; attributes: Record<string, string[]>; role: string; ruleGroup: string | null }
  | { ok: false; code: string; message: string };
interface ConnectionTest { id: string; status: string; result: TestResult | null }

function status(c: Connection): string {
  if (c.disabledByPlan) return 'Disabled by plan';
  return c.active ? 'Active' : 'Off';
}

/** The certificate that ends first, with a warning (role=status) from 30 days before. */
function expiry(c: Connection): VNode | string {
  const certs = [...(c.saml?.certificates ?? [])].sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter));
  const first = certs[0];
  if (!first) return c.type === 'oidc' ? 'Not applicable' : '—';
  if (first.expired) return html`<span class="warning" role="status">Expired ${formatDate(first.notAfter)}: sign-ins fail until it is replaced</span>`;
  if (first.expiresSoon) return html`<span class="warning" role="status">Expires ${formatDate(first.notAfter)}: rotate it at the IdP</span>`;
  return formatDate(first.notAfter);
}

function choiceOf(c: Connection): IdpChoice {
  return idpChoices.find((o) => o.type === c.type && o.preset === c.preset) ?? idpChoices[c.type === 'oidc' ? 4 : 3];
}

async function list(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const page = await c.api.get<{ data: Connection[] }>(`/orgs/${c.orgId}/connections`, { limit: '100' });
  const rows = page.data.map((x) => [
    html`<a href=${`${c.base}/sso/${x.id}`}>${x.name}</a>`, x.type.toUpperCase(), html`<span class="mono">${x.saml?.idpEntityId ?? x.oidc?.issuer ?? ''}</span>`,
    status(x), expiry(x),
  ]);
  await c.page('Single sign-on', html`
    <p class="actions"><a class="button" href=${`${c.base}/sso/new`}>Set up a connection</a></p>
    <${Table} caption="SSO connections" head=${['Name', 'Protocol', 'Identity provider', 'Status', 'IdP certificate']} rows=${rows} empty="No SSO connection yet." />`);
}

/**
 * Turning an inactive connection on: a member with sso:manage, after the test. A setup link
 * cannot (the API answers 403 connection.activation_requires_member), so the portal says who does.
 */
function Activation({ c, x }: { c: ConsoleContext['state']['console']; x: Connection }): VNode | null {
  if (x.active || x.disabledByPlan) return null;
  if (c.session.role === 'setup_link') {
    return html`<p role="status">The connection is off. After a successful test, an administrator of the organization turns it on; until then nobody can sign in through it.</p>`;
  }
  if (!c.can('sso:manage')) return null;
  return html`<h2>Turn the connection on</h2>
    <p>The connection is off: nobody can sign in through it. Test it first, then turn it on.</p>
    <${PostForm} action=${`${c.base}/sso/${x.id}/activate`} csrf=${c.csrf}>
      <button type="submit" aria-label=${`Activate ${x.name}`}>Activate</button><//>`;
}

async function activate(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const id = encodeURIComponent(ctx.params.id!);
  await act(ctx, `${c.base}/sso/${id}`, async () => {
    await c.api.patch(`/orgs/${c.orgId}/connections/${id}`, { active: true });
    return 'The connection is on: people can sign in through it.';
  });
}

async function show(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const x = await c.api.get<Connection>(`/orgs/${c.orgId}/connections/${encodeURIComponent(ctx.params.id!)}`);
  const values = { entityId: x.sp?.entityId ?? '', acsUrl: x.sp?.acsUrl ?? '', metadataUrl: x.sp?.metadataUrl ?? '', redirectUri: x.redirectUri ?? '' };
  await c.page(x.name, html`
    <dl class="values"><dt>Protocol</dt><dd>${x.type.toUpperCase()}</dd><dt>Status</dt><dd>${status(x)}</dd><dt>IdP certificate</dt><dd>${expiry(x)}</dd>
      <dt>Default role</dt><dd>${x.defaultRole}</dd></dl>
    ${stepHeading(4, 'Test the connection')}
    <p>Sign in once through your identity provider: Gatehouse runs every check, then shows what arrived and the role it maps to. Nobody is signed in or added.</p>
    <${PostForm} action=${`${c.base}/sso/${x.id}/test`} csrf=${c.csrf}><button type="submit">Test connection</button><//>
    <${Activation} c=${c} x=${x} />
    <h2>Values for the identity provider</h2>
    <${SpValuesList} choice=${choiceOf(x)} values=${values} metadataReady=${true} />
    <h2>Attributes</h2>
    <${AttributeNames} choice=${choiceOf(x)} />
    <p><a href=${`${c.base}/sso`}>All connections</a></p>`);
}

/** Starts a test at the API and sends the browser to its link (then the IdP, then the result page). */
async function startTest(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const id = encodeURIComponent(ctx.params.id!);
  await act(ctx, `${c.base}/sso/${id}`, async () => {
    const test = await c.api.post<{ startUrl: string }>(`/orgs/${c.orgId}/connections/${id}/test`, { returnTo: `${c.base}/sso/${id}/test-result` });
    ctx.status = 303;
    ctx.redirect(test.startUrl);
  });
}

function ResultBody({ result }: { result: TestResult }): VNode {
  if (!result.ok) return html`<p class="flash error" role="alert">The test failed: ${result.message}</p><p>Check that failed: <code>${result.code}</code></p>`;
  const attributes = Object.entries(result.attributes).map(([name, values]) => [html`<code>${name}</code>`, values.join(', ')]);
  return html`<p class="flash ok" role="status">The connection works. ${result.email} would sign in as <strong>${result.role}</strong>.</p>
    <dl class="values">
      <dt>Email</dt><dd>${result.email}</dd><dt>Subject (NameID)</dt><dd class="mono">${result.subject}</dd>
      <dt>Name</dt><dd>${[result.givenName, result.familyName].filter(Boolean).join(' ') || '—'}</dd>
      <dt>Groups</dt><dd>${result.groups.length ? result.groups.join(', ') : 'None arrived'}</dd>
      <dt>Mapped role</dt><dd>${result.role} ${result.ruleGroup ? `(rule for the group ${result.ruleGroup})` : '(the connection\'s default role)'}</dd>
    </dl>
    <${Table} caption="Attributes received" head=${['Name', 'Values']} rows=${attributes} empty="No attributes arrived." />`;
}

async function testResult(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const id = encodeURIComponent(ctx.params.id!);
  const testId = typeof ctx.query.test === 'string' ? ctx.query.test : '';
  const test = await c.api.get<ConnectionTest>(`/orgs/${c.orgId}/connections/${id}/test/${encodeURIComponent(testId)}`);
  await c.page('Test result', html`
    ${test.result ? html`<${ResultBody} result=${test.result} />` : html`<p role="status">This test has not finished (${test.status}). Start a new one from the connection's page.</p>`}
    <p class="actions"><a href=${`${c.base}/sso/${id}`}>Back to the connection</a><a href=${`${c.base}/sso`}>All connections</a></p>`);
}

export const ssoSection: ConsoleSection = {
  path: 'sso',
  label: 'Single sign-on',
  permissions: ['sso:manage'],
  routes(pages) {
    pages.get('/sso', list);
    pages.get('/sso/new', pickIdp);
    pages.get('/sso/new/values', showValues);
    pages.get('/sso/new/idp', (ctx) => idpForm(ctx));
    pages.post('/sso/new', createConnection);
    pages.get('/sso/:id', show);
    pages.post('/sso/:id/test', startTest);
    pages.post('/sso/:id/activate', activate);
    pages.get('/sso/:id/test-result', testResult);
  },
};
