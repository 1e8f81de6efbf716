import { randomUUID } from 'node:crypto';
import { ApiProblem } from '../console-api.ts';
import { formField, type ConsoleContext } from '../console-context.ts';
import { Field, html, PostForm } from '../view.ts';
import { AttributeNames, idpChoice, idpChoices, SpValuesList, stepHeading, type IdpChoice, type SpValues } from './sso-values.ts';

// The SSO setup wizard: 1 pick the IdP, 2 the values to paste into it, 3 the IdP's metadata (or
// OIDC client), which creates the connection, 4 test it (on the connection's page). The id is
// chosen in step 2 so that the IdP gets the ACS URL before its metadata exists; the state rides
// in the query string (nothing secret in it) until step 3 posts.

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function wizardState(ctx: ConsoleContext): { choice: IdpChoice | undefined; name: string; id: string } {
  const q = (k: string) => (typeof ctx.query[k] === 'string' ? (ctx.query[k] as string).trim().slice(0, 200) : '');
  const choice = idpChoice(q('idp') || formField(ctx, 'idp'));
  const id = q('id') || formField(ctx, 'id');
  return { choice, name: q('name') || formField(ctx, 'name') || (choice?.label ?? ''), id: uuid.test(id) ? id : '' };
}

export async function pickIdp(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const current = wizardState(ctx).choice?.key ?? 'okta';
  await c.page('Set up single sign-on', html`
    ${stepHeading(1, 'Pick your identity provider')}
    <form method="get" action=${`${c.base}/sso/new/values`}>
      <fieldset>
        <legend>Identity provider</legend>
        ${idpChoices.map((o) => html`<div class="choice">
          <input type="radio" id=${`idp-${o.key}`} name="idp" value=${o.key} checked=${o.key === current} required />
          <label for=${`idp-${o.key}`}>${o.label}</label>
        </div>`)}
      </fieldset>
      <${Field} name="name" label="Connection name" hint="Shown to people who pick how to sign in, e.g. “Acme Okta”." />
      <button type="submit">Continue</button>
    </form>`);
}

export async function showValues(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const state = wizardState(ctx);
  if (!state.choice) return ctx.redirect(`${c.base}/sso/new`);
  const id = state.id || randomUUID();
  const values = await c.api.get<SpValues>(`/orgs/${c.orgId}/connection-endpoints`, { id });
  const next = new URLSearchParams({ idp: state.choice.key, name: state.name, id });
  await c.page('Set up single sign-on', html`
    ${stepHeading(2, `Give ${state.choice.label} these values`)}
    <p>In ${state.choice.label}, create a ${state.choice.type === 'oidc' ? 'OpenID Connect web application' : 'SAML application'} and paste these values into it.</p>
    <${SpValuesList} choice=${state.choice} values=${values} metadataReady=${false} />
    <h2>Attributes</h2>
    <${AttributeNames} choice=${state.choice} />
    <p class="actions"><a href=${`${c.base}/sso/new?${new URLSearchParams({ idp: state.choice.key }).toString()}`}>Back</a>
      <a class="button" href=${`${c.base}/sso/new/idp?${next.toString()}`}>Continue to step 3</a></p>`);
}

export async function idpForm(ctx: ConsoleContext, problem?: string): Promise<void> {
  const c = ctx.state.console;
  const state = wizardState(ctx);
  if (!state.choice || !state.id) return ctx.redirect(`${c.base}/sso/new`);
  const saml = state.choice.type === 'saml';
  await c.page('Set up single sign-on', html`
    ${stepHeading(3, saml ? `Add ${state.choice.label}'s metadata` : 'Add the OpenID Connect client')}
    ${problem ? html`<p class="flash error" role="alert">${problem}</p>` : null}
    <${PostForm} action=${`${c.base}/sso/new`} csrf=${c.csrf}>
      <input type="hidden" name="idp" value=${state.choice.key} />
      <input type="hidden" name="id" value=${state.id} />
      <${Field} name="name" label="Connection name" value=${state.name} required=${true} />
      ${saml ? html`
        <${Field} name="metadataUrl" label="IdP metadata URL" type="url" value=${formField(ctx, 'metadataUrl')} hint="Gatehouse fetches it now and keeps it fresh. Or paste the XML below." />
        <div class="field">
          <label for="f-metadataFile">IdP metadata file</label>
          <input id="f-metadataFile" type="file" accept=".xml,application/xml,text/xml" data-into="f-metadataXml" aria-describedby="f-metadataFile-hint" />
          <p class="hint" id="f-metadataFile-hint">Picking a file fills in the XML below.</p>
        </div>
        <${Field} name="metadataXml" label="IdP metadata XML" multiline=${true} value=${formField(ctx, 'metadataXml')} />`
      : html`
        <${Field} name="issuer" label="Issuer URL" type="url" value=${formField(ctx, 'issuer')} required=${true} />
        <${Field} name="clientId" label="Client ID" value=${formField(ctx, 'clientId')} required=${true} />
        <${Field} name="clientSecret" label="Client secret" type="password" required=${true} autocomplete="off" hint="Stored encrypted; never shown again." />`}
      <button type="submit">Save connection</button>
    <//>
    <p><a href=${`${c.base}/sso/new/values?${new URLSearchParams({ idp: state.choice.key, name: state.name, id: state.id }).toString()}`}>Back to the values</a></p>`, problem ? 400 : 200);
}

/** Step 3's post: the connection is created with the wizard's id; then step 4 on its page. */
export async function createConnection(ctx: ConsoleContext): Promise<void> {
  const c = ctx.state.console;
  const state = wizardState(ctx);
  if (!state.choice || !state.id) return ctx.redirect(`${c.base}/sso/new`);
  const common = { id: state.id, name: formField(ctx, 'name'), preset: state.choice.preset };
  const url = formField(ctx, 'metadataUrl');
  const xml = formField(ctx, 'metadataXml');
  const body = state.choice.type === 'oidc'
    ? { type: 'oidc', ...common, issuer: formField(ctx, 'issuer'), clientId: formField(ctx, 'clientId'), clientSecret: formField(ctx, 'clientSecret') }
    : { type: 'saml', ...common, ...(url ? { idpMetadataUrl: url } : {}), ...(xml ? { idpMetadataXml: xml } : {}) };
  try {
    await c.api.post(`/orgs/${c.orgId}/connections`, body);
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    return idpForm(ctx, err.message);
  }
  c.done(`${c.base}/sso/${state.id}`, 'The connection was saved. Step 4: test it with a real sign-in.');
}
