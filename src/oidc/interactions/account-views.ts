// The hosted account pages beside the sign-in (password reset, sign-up, invitations), built on
// the sign-in's layout: server-rendered, no JavaScript, labelled fields.
import { minPasswordLength } from '../../modules/invitations/invitation-accept.service.ts';
import { errorLine, escapeHtml, form, layout } from './views.ts';

function link(href: string, text: string): string {
  return `<p><a href="${escapeHtml(href)}">${escapeHtml(text)}</a></p>`;
}

/** A new password and its confirmation, with the length rule said before it is broken. */
function newPasswordFields(): string {
  return `  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="${minPasswordLength}" aria-describedby="password-rule">
  <p id="password-rule"><small>At least ${minPasswordLength} characters.</small></p>
  <label for="confirm">Repeat the password</label>
  <input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="${minPasswordLength}">`;
}

/** A page with a message and, optionally, one way on. */
export function noticePage(title: string, message: string, next?: { href: string; text: string }): string {
  return layout({ title, body: `<p>${escapeHtml(message)}</p>${next ? link(next.href, next.text) : ''}` });
}

export function resetRequestPage(action: string, csrf: string, email: string, back: string, error?: string): string {
  return layout({
    title: 'Reset your password',
    body: errorLine(error) + `<p>Enter the email of your account. We will send you a link to choose a new password.</p>\n` + form(action, csrf, `  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${escapeHtml(email)}">
  <button type="submit">Send the link</button>`) + link(back, 'Back to sign in'),
  });
}

/** The one answer to every reset request, whether or not the email has an account. */
export function resetSentPage(back: string): string {
  return noticePage('Check your email',
    'If an account exists for that email, we sent a link to choose a new password. The link works once, for one hour. Once you have chosen a new password, sign in with it.',
    { href: back, text: 'Back to sign in' });
}

export function newPasswordPage(action: string, csrf: string, email: string, error?: string): string {
  return layout({
    title: 'Choose a new password',
    // The email (read-only) lets a password manager file the new password under the right account.
    body: errorLine(error) + form(action, csrf, `  <label for="email">Email</label>
  <input id="email" name="username" type="email" autocomplete="username" value="${escapeHtml(email)}" readonly>
${newPasswordFields()}
  <button type="submit">Change the password</button>`),
  });
}

export function signUpPage(action: string, csrf: string, values: { email: string; name: string }, back: string, error?: string): string {
  return layout({
    title: 'Create an account',
    body: errorLine(error) + form(action, csrf, `  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${escapeHtml(values.email)}">
  <label for="name">Name</label>
  <input id="name" name="name" type="text" autocomplete="name" value="${escapeHtml(values.name)}">
${newPasswordFields()}
  <button type="submit">Create the account</button>`) + link(back, 'I have an account: sign in'),
  });
}

export interface InvitationFacts {
  orgName: string;
  role: string;
  email: string;
}

function invitationIntro(inv: InvitationFacts): string {
  return `<p>You are invited to join <strong>${escapeHtml(inv.orgName)}</strong> as <strong>${escapeHtml(inv.role)}</strong>. The invitation is for ${escapeHtml(inv.email)}.</p>\n`;
}

/** The invitee has no account yet: the form creates one. */
export function invitationNewAccountPage(action: string, csrf: string, inv: InvitationFacts, name: string, error?: string): string {
  return layout({
    title: 'Accept the invitation',
    body: errorLine(error) + invitationIntro(inv) + form(action, csrf, `  <label for="email">Email</label>
  <input id="email" name="username" type="email" autocomplete="username" value="${escapeHtml(inv.email)}" readonly>
  <label for="name">Your name</label>
  <input id="name" name="name" type="text" autocomplete="name" autofocus value="${escapeHtml(name)}">
${newPasswordFields()}
  <button type="submit">Create my account and join</button>`),
  });
}

/** The invitee has an account with a password: proving it joins them. */
export function invitationPasswordPage(action: string, csrf: string, inv: InvitationFacts, error?: string): string {
  return layout({
    title: 'Accept the invitation',
    body: errorLine(error) + invitationIntro(inv) + `<p>This email already has an account. Enter its password to join.</p>\n` + form(action, csrf, `  <label for="email">Email</label>
  <input id="email" name="username" type="email" autocomplete="username" value="${escapeHtml(inv.email)}" readonly>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Join</button>`),
  });
}
