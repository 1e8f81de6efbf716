import { html } from 'htm/preact';
import type { ComponentChildren, VNode } from 'preact';
import { render } from 'preact-render-to-string';
import type { Context } from 'koa';

// The console's pages: server-rendered with preact + htm (escaping by construction, no build
// step), working without JavaScript; /admin/assets/console.js only adds copy buttons and
// confirmations. No CDN: the CSS and JS ship in src/admin/assets.

export { html };
export type { VNode };

export interface NavItem {
  href: string;
  label: string;
  current?: boolean;
}

export interface Shell {
  title: string;
  /** The signed-in header: org switcher and sign-out (absent on signed-out and setup-link pages). */
  header?: VNode;
  nav?: NavItem[];
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

const securityHeaders: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

/** Sends a whole page: the shell around `body`. */
export function sendPage(ctx: Context, shell: Shell, body: VNode, status = 200): void {
  ctx.status = status;
  ctx.set(securityHeaders);
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = `<!doctype html>${render(Page(shell, body))}`;
}

function Page({ title, header, nav, flash }: Shell, body: VNode): VNode {
  return html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>${title} · Gatehouse</title>
      <link rel="stylesheet" href="/admin/assets/console.css" />
      <script src="/admin/assets/console.js" defer></script>
    </head>
    <body>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">Gatehouse</span>
        ${header}
      </header>
      <div class="frame">
        ${nav ? html`<nav aria-label="Console"><ul>${nav.map((n) => html`<li><a href=${n.href} aria-current=${n.current ? 'page' : undefined}>${n.label}</a></li>`)}</ul></nav>` : null}
        <main id="main" tabindex="-1">
          <h1>${title}</h1>
          ${flash ? html`<p class=${`flash ${flash.kind}`} role=${flash.kind === 'error' ? 'alert' : 'status'}>${flash.text}</p>` : null}
          ${body}
        </main>
      </div>
    </body>
  </html>`;
}

/** A posting form with the session's CSRF token; `confirm` asks before sending (console.js). */
export function PostForm({ action, csrf, children, confirm, className }: { action: string; csrf: string; children?: ComponentChildren; confirm?: string; className?: string }): VNode {
  return html`<form method="post" action=${action} class=${className} data-confirm=${confirm}>
    <input type="hidden" name="csrf" value=${csrf} />
    ${children}
  </form>`;
}

export interface FieldProps {
  name: string;
  label: string;
  type?: string;
  value?: string;
  required?: boolean;
  hint?: string;
  /** A select's options: [value, label]. */
  options?: [string, string][];
  autocomplete?: string;
  multiline?: boolean;
}

/** A labelled input, select or textarea; the hint is tied to it with aria-describedby. */
export function Field({ name, label, type = 'text', value, required, hint, options, autocomplete, multiline }: FieldProps): VNode {
  const id = `f-${name}`;
  const described = hint ? `${id}-hint` : undefined;
  const control = options
    ? html`<select id=${id} name=${name} required=${required} aria-describedby=${described}>${options.map(([v, l]) => html`<option value=${v} selected=${v === value}>${l}</option>`)}</select>`
    : multiline
      ? html`<textarea id=${id} name=${name} required=${required} aria-describedby=${described} rows="6">${value ?? ''}</textarea>`
      : html`<input id=${id} name=${name} type=${type} value=${value} required=${required} autocomplete=${autocomplete} aria-describedby=${described} />`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${control}
    ${hint ? html`<p class="hint" id=${described}>${hint}</p>` : null}
  </div>`;
}

/** A table in a scrollable, focusable region (narrow screens scroll it sideways). */
export function Table({ caption, head, rows, empty = 'Nothing here yet.' }: { caption: string; head: string[]; rows: ComponentChildren[][]; empty?: string }): VNode {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="table" role="region" aria-label=${caption} tabindex="0">
    <table>
      <caption>${caption}</caption>
      <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody>
    </table>
  </div>`;
}

/** A secret shown this once: read-only, selectable, with a copy button when JavaScript runs. */
export function OnceShown({ label, value, id = 'once' }: { label: string; value: string; id?: string }): VNode {
  return html`<div class="once" role="status">
    <label for=${id}>${label}</label>
    <input id=${id} readonly value=${value} class="mono" />
    <button type="button" class="secondary" data-copy=${id}>Copy</button>
    <p class="hint">Shown this once: copy it now. Gatehouse keeps only a hash.</p>
  </div>`;
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '—' : d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}
