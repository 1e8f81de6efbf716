import type { Context } from 'koa';
import type { ComponentChildren } from 'preact';
import { ApiProblem, type ConsoleApi } from './console-api.ts';
import type { ConsoleSession } from './console-session.ts';
import { html, sendPage, type NavItem, type VNode } from './view.ts';

/** A console page group: its nav entry (shown to roles holding `permission`) and its routes. */
export interface ConsoleSection {
  /** The path under /admin/orgs/:orgId/ (also the nav link). */
  path: string;
  label: string;
  /** Shown to whoever holds any of these; none: to everyone signed in. */
  permissions?: string[];
  routes(router: OrgPages): void;
}

/** What every org page handler gets in ctx.state.console. */
export interface ConsoleRequest {
  session: ConsoleSession;
  api: ConsoleApi;
  orgId: string;
  /** `/admin/orgs/<orgId>`: the base of this org's pages. */
  base: string;
  csrf: string;
  can(...permissions: string[]): boolean;
  /** Renders the page in the signed-in shell (switcher, nav for this role, the pending flash). */
  page(title: string, body: VNode, status?: number): Promise<void>;
  /** Saves a message for the next page and redirects there (Post/Redirect/Get). */
  done(to: string, text: string, kind?: 'ok' | 'error'): void;
}

export type ConsoleContext = Context & { state: { console: ConsoleRequest } };
export type ConsoleHandler = (ctx: ConsoleContext) => Promise<void>;

/** The routes of org pages, relative to /admin/orgs/:orgId. */
export interface OrgPages {
  get(path: string, handler: ConsoleHandler): void;
  post(path: string, handler: ConsoleHandler): void;
}

const flashCookie = 'gh_console_flash';

export function takeFlash(ctx: Context): { kind: 'ok' | 'error'; text: string } | undefined {
  const raw = ctx.cookies.get(flashCookie, { signed: true });
  if (!raw) return undefined;
  ctx.cookies.set(flashCookie, null, { path: '/admin', signed: true });
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { kind?: unknown; text?: unknown };
    return typeof value.text === 'string' ? { kind: value.kind === 'error' ? 'error' : 'ok', text: value.text } : undefined;
  } catch {
    return undefined;
  }
}

export function putFlash(ctx: Context, text: string, kind: 'ok' | 'error'): void {
  const value = Buffer.from(JSON.stringify({ kind, text: text.slice(0, 500) })).toString('base64url');
  ctx.cookies.set(flashCookie, value, { path: '/admin', signed: true, httpOnly: true, sameSite: 'lax', maxAge: 60_000 });
}

/**
 * Runs a page's action; an API problem becomes a message on the page it came from (the API
 * already refused and changed nothing), anything else propagates to the error page.
 */
export async function act(ctx: ConsoleContext, back: string, action: () => Promise<string | void>): Promise<void> {
  try {
    const done = await action();
    if (done) ctx.state.console.done(back, done);
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    ctx.state.console.done(back, err.message, 'error');
  }
}

/** The form body's string fields (urlencoded forms; anything else is absent). */
export function formField(ctx: Context, name: string): string {
  const body = ctx.request.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value.trim() : '';
}

export function navFor(sections: readonly ConsoleSection[], can: (...p: string[]) => boolean, base: string, currentPath: string): NavItem[] {
  return sections
    .filter((s) => !s.permissions || can(...s.permissions))
    .map((s) => ({ href: `${base}/${s.path}`, label: s.label, current: currentPath.startsWith(`${base}/${s.path}`) }));
}

export function problemBody(err: ApiProblem): VNode {
  const advice = err.status === 403 ? 'Your role does not allow this.' : err.status === 404 ? 'It does not exist, or not in this organization.' : '';
  return html`<p class="flash error" role="alert">${err.message}</p>${advice ? html`<p>${advice}</p>` : null}`;
}

export function plainPage(ctx: Context, title: string, body: ComponentChildren, status = 200): void {
  sendPage(ctx, { title }, html`<div>${body}</div>`, status);
}
