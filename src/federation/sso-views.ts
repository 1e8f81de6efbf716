import { escapeHtml, form, layout } from '../oidc/interactions/views.ts';

/** Confirms a login started at the IdP before it signs anyone in: whose identity, through which connection. */
export function idpInitiatedPage(action: string, csrf: string, email: string, connectionName: string): string {
  return layout({
    title: 'Continue signing in?',
    body: `<p>You signed in at <strong>${escapeHtml(connectionName)}</strong> as <strong>${escapeHtml(email)}</strong>.</p>\n`
      + form(action, csrf, `  <button type="submit">Continue as ${escapeHtml(email)}</button>
  <button type="submit" name="decline" value="1">Sign in another way</button>`),
  });
}

/** Several connections for one domain: the person picks one. */
export function chooserPage(orgName: string, choices: { name: string; href: string }[]): string {
  const items = choices.map((c) => `<li><a href="${escapeHtml(c.href)}">${escapeHtml(c.name)}</a></li>`).join('\n');
  return layout({ title: 'Choose how to sign in', body: `<p>${escapeHtml(orgName)} offers several ways to sign in:</p>\n<ul>\n${items}\n</ul>` });
}
