import { presets } from '../../../saml/attribute-mapping.ts';
import { html, type VNode } from '../view.ts';

// Pieces of the SSO pages: the values an IT admin copies into the IdP, and what each IdP calls
// the attributes Gatehouse reads (saml/attribute-mapping.ts presets).

export const idpChoices = [
  { key: 'okta', label: 'Okta', type: 'saml', preset: 'okta' },
  { key: 'entra', label: 'Microsoft Entra ID', type: 'saml', preset: 'entra' },
  { key: 'google', label: 'Google Workspace', type: 'saml', preset: 'google' },
  { key: 'saml', label: 'Other SAML identity provider', type: 'saml', preset: 'generic' },
  { key: 'oidc', label: 'Other OpenID Connect provider', type: 'oidc', preset: 'generic' },
] as const;
export type IdpChoice = (typeof idpChoices)[number];

export function idpChoice(key: unknown): IdpChoice | undefined {
  return idpChoices.find((c) => c.key === key);
}

export interface SpValues { entityId: string; acsUrl: string; metadataUrl: string; redirectUri: string }

/** One value with a copy button (console.js); readonly, so it can be selected by hand too. */
export function CopyValue({ id, label, value }: { id: string; label: string; value: string }): VNode {
  return html`<div class="field copy">
    <label for=${id}>${label}</label>
    <div class="copy-row">
      <input id=${id} readonly value=${value} class="mono" />
      <button type="button" class="secondary" data-copy=${id} aria-label=${`Copy ${label}`}>Copy</button>
    </div>
  </div>`;
}

/** What the IdP needs about Gatehouse, for this protocol. */
export function SpValuesList({ choice, values, metadataReady }: { choice: IdpChoice; values: SpValues; metadataReady: boolean }): VNode {
  if (choice.type === 'oidc') return html`<${CopyValue} id="v-redirect" label="Redirect URI (sign-in redirect URL)" value=${values.redirectUri} />`;
  return html`
    <${CopyValue} id="v-acs" label="ACS URL (single sign-on URL, reply URL)" value=${values.acsUrl} />
    <${CopyValue} id="v-entity" label="SP entity ID (audience URI, identifier)" value=${values.entityId} />
    <p>SP metadata: ${metadataReady
      ? html`<a href=${values.metadataUrl} download="gatehouse-sp-metadata.xml">download the metadata XML</a>`
      : html`<span class="mono">${values.metadataUrl}</span> (downloadable once the connection is saved in step 3)`}</p>`;
}

/** The attribute names Gatehouse reads for this IdP: what the admin names them at the IdP. */
export function AttributeNames({ choice }: { choice: IdpChoice }): VNode {
  if (choice.type === 'oidc') return html`<p>Release the <code>openid</code>, <code>email</code> and <code>profile</code> scopes; a <code>groups</code> claim, if your provider sends one, is used for role rules.</p>`;
  const names = presets[choice.preset];
  const row = (label: string, list: string[]) => html`<tr><th scope="row">${label}</th><td>${list.map((n, i) => html`${i ? ', ' : ''}<code>${n}</code>`)}</td></tr>`;
  return html`<div class="table" role="region" aria-label="Attribute names" tabindex="0"><table>
    <caption>Attribute names Gatehouse reads (the first one present wins)</caption>
    <thead><tr><th scope="col">Gatehouse field</th><th scope="col">Attribute name at the IdP</th></tr></thead>
    <tbody>${row('Email', names.email)}${row('First name', names.givenName)}${row('Last name', names.familyName)}${row('Groups', names.groups)}</tbody>
  </table></div>`;
}

export function stepHeading(step: number, title: string): VNode {
  return html`<p class="steps" aria-label="Progress">Step ${step} of 4</p><h2>${title}</h2>`;
}
