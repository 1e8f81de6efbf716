// The hosted sign-in pages: server-rendered, no JavaScript, labelled fields, one task per page.

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Page {
  title: string;
  body: string;
  head?: string;
}

export function layout({ title, body, head = '' }: Page): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title>${head}
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #111; }
  main { max-width: 24rem; margin: 4rem auto; padding: 2rem; background: #fff; border-radius: .5rem; box-shadow: 0 1px 3px #0003; }
  label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
  input, button { font: inherit; width: 100%; box-sizing: border-box; padding: .6rem; }
  input:focus, button:focus { outline: 3px solid #1a56db; outline-offset: 1px; }
  button { margin-top: 1.5rem; background: #1a56db; color: #fff; border: 0; border-radius: .3rem; cursor: pointer; }
  .error { color: #9b1c1c; background: #fde8e8; padding: .5rem; border-radius: .3rem; }
  ul { list-style: none; padding: 0; } li button { text-align: left; background: #fff; color: #111; border: 1px solid #ccc; margin-top: .5rem; }
</style>
</head>
<body><main>
<h1>${escapeHtml(title)}</h1>
${body}
</main></body>
</html>`;
}

export function errorLine(error?: string): string {
  return error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
}

/** A posting form with the interaction's CSRF token and the given fields (already HTML). */
export function form(action: string, csrf: string, fields: string): string {
  return `<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
${fields}
</form>`;
}

/** `links.signUp`: where "Create an account" goes, when sign-up is on (absent: no link); `links.social`: "Continue with …" links. */
export function emailPage(action: string, csrf: string, email: string, error?: string, links: { signUp?: string; social?: { label: string; href: string }[] } = {}): string {
  return layout({
    title: 'Sign in',
    body: errorLine(error) + form(action, csrf, `  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${escapeHtml(email)}">
  <button type="submit">Continue</button>`) + (links.social ?? []).map((l) => `\n<p><a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a></p>`).join('') + (links.signUp ? `\n<p>New here? <a href="${escapeHtml(links.signUp)}">Create an account</a></p>` : ''),
  });
}

/** The step after `action`'s in the same interaction: `/interaction/<uid>/password` → `/interaction/<uid>/<step>`. */
function sibling(action: string, step: string): string {
  return `${action.slice(0, action.lastIndexOf('/'))}/${step}`;
}

/** `resetHref`: the "Forgot your password?" link, by default the reset step of the same interaction. */
export function passwordPage(action: string, csrf: string, email: string, error?: string, resetHref = sibling(action, 'reset')): string {
  return layout({
    title: 'Enter your password',
    body: errorLine(error) + form(action, csrf, `  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(email)}" readonly>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Sign in</button>`) + `\n<p><a href="${escapeHtml(resetHref)}">Forgot your password?</a></p>`,
  });
}

export function orgPage(action: string, csrf: string, orgs: { id: string; name: string; slug: string }[]): string {
  return layout({
    title: 'Choose an organization',
    body: form(action, csrf, `  <ul>${orgs.map((o) => `<li><button type="submit" name="organization" value="${escapeHtml(o.id)}">${escapeHtml(o.name)} <small>(${escapeHtml(o.slug)})</small></button></li>`).join('')}</ul>`),
  });
}

/**
 * Hands a posted form on to another site (an IdP) by a new navigation: a redirect of the POST
 * itself would stay under the page's `form-action 'self'`, which browsers apply to redirects.
 */
export function continuePage(to: string): string {
  const href = escapeHtml(to);
  return layout({
    title: 'Continue to your company sign-in',
    head: `\n<meta http-equiv="refresh" content="0;url=${href}">`,
    body: `<p><a href="${href}">Continue to your company sign-in</a></p>`,
  });
}

export function messagePage(title: string, message: string): string {
  return layout({ title, body: `<p>${escapeHtml(message)}</p>` });
}

/** RP-initiated logout: oidc-provider's form (hidden xsrf field) with our confirmation buttons. */
export function logoutPage(providerForm: string): string {
  return layout({
    title: 'Sign out',
    body: `<p>Do you want to sign out?</p>
${providerForm}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  });
}

export function signedOutPage(clientName: string | undefined): string {
  return messagePage('Signed out', clientName ? `You have signed out of ${clientName}.` : 'You have signed out.');
}
