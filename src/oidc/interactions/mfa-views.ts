import type { Enrolment } from '../../modules/users/mfa.service.ts';
import { errorLine, escapeHtml, form, layout } from './views.ts';

// The two-step verification pages of the hosted sign-in: no JavaScript, labelled fields, and
// every instruction in text (no QR code: the key and the otpauth link are shown to type or paste).

const mono = 'style="font-family: ui-monospace, monospace; word-break: break-all"';

/** The code step; `recovery` switches the field to a recovery code (same form, same field name). */
export function totpPage(action: string, csrf: string, opts: { recovery: boolean; error?: string }): string {
  const field = opts.recovery
    ? `  <label for="code">Recovery code</label>
  <p id="code-hint">One of the codes you saved when you set up two-step verification, like abcde-12345. Each works once.</p>
  <input id="code" name="code" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="32" required autofocus aria-describedby="code-hint">
  <input type="hidden" name="recovery" value="1">`
    : `  <label for="code">Verification code</label>
  <p id="code-hint">The 6-digit code your authenticator app shows for this account.</p>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="32" required autofocus aria-describedby="code-hint">`;
  const other = opts.recovery
    ? `<p><a href="${escapeHtml(action)}">Use your authenticator app instead</a></p>`
    : `<p><a href="${escapeHtml(`${action}?recovery=1`)}">Lost your device? Use a recovery code</a></p>`;
  return layout({
    title: opts.recovery ? 'Use a recovery code' : 'Two-step verification',
    body: `${errorLine(opts.error)}${form(action, csrf, `${field}\n  <button type="submit">Verify</button>`)}\n${other}`,
  });
}

/** Enrolment inside the sign-in: the key (and its otpauth link) to add to an app, then its first code. */
export function totpEnrolPage(action: string, csrf: string, enrolment: Enrolment, error?: string): string {
  const key = enrolment.secret.replace(/(.{4})/g, '$1 ').trim();
  return layout({
    title: 'Set up two-step verification',
    body: `${errorLine(error)}<p>This organization requires two-step verification of its owners and admins.</p>
<p>In your authenticator app, add an account with this key (time-based):</p>
<p><code id="totp-secret" ${mono}>${escapeHtml(key)}</code></p>
<p>Or, if your app takes a link, use this one:</p>
<p><code id="totp-uri" ${mono}>${escapeHtml(enrolment.otpauthUri)}</code></p>
${form(action, csrf, `  <label for="code">The 6-digit code your app now shows</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="32" required autofocus>
  <button type="submit">Turn on two-step verification</button>`)}`,
  });
}

/** The recovery codes, shown this once; Continue finishes the sign-in in the org through the org step. */
export function recoveryCodesPage(orgAction: string, csrf: string, orgId: string, codes: string[]): string {
  return layout({
    title: 'Save your recovery codes',
    body: `<p>Two-step verification is on. If you lose your device, each of these codes signs you in once. Keep them somewhere safe: they are not shown again.</p>
<ul aria-label="Recovery codes">${codes.map((c) => `<li><code ${mono}>${escapeHtml(c)}</code></li>`).join('')}</ul>
${form(orgAction, csrf, `  <input type="hidden" name="organization" value="${escapeHtml(orgId)}">
  <button type="submit">I have saved them. Continue</button>`)}`,
  });
}
