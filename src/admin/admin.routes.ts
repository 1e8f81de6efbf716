import { readFileSync } from 'node:fs';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import { ApiProblem, ConsoleApi } from './console-api.ts';
import { consoleClientId } from './console-client.ts';
import { navFor, plainPage, problemBody, putFlash, takeFlash, type ConsoleContext, type ConsoleRequest, type ConsoleSection, type OrgPages } from './console-context.ts';
import { ConsoleOidc } from './console-oidc.ts';
import { ConsoleCookies, type ConsoleSession } from './console-session.ts';
import { consoleSections } from './sections.ts';
import { html, PostForm, sendPage } from './view.ts';
import { orgSwitcher } from './pages/org-switcher.ts';
import { setupPortalRoutes } from './setup-portal.routes.ts';

export interface AdminDeps {
  config: Config;
  logger: Logger;
  /** This node's loopback listener (set once it listens). */
  selfUrl: () => string;
  verifyAccessToken: (token: string) => Promise<Record<string, unknown>>;
}

const assets: Record<string, { type: string; body: Buffer }> = {
  'console.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('./assets/console.css', import.meta.url)) },
  'console.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('./assets/console.js', import.meta.url)) },
};

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A local console path to return to after sign-in; anything else (another host, //x) is refused. */
export function localReturn(value: unknown): string {
  return typeof value === 'string' && /^\/admin(\/[A-Za-z0-9/_-]*)?$/.test(value) ? value : '/admin';
}

/** The web console at /admin (DESIGN.md), signed in through Gatehouse's own issuer. */
export function adminRoutes(deps: AdminDeps, sections: readonly ConsoleSection[] = consoleSections): Router {
  const { config } = deps;
  const cookies = new ConsoleCookies(config);
  const oidc = new ConsoleOidc(deps);
  const router = new Router({ prefix: '/admin' });
  const forms = bodyParser({ enableTypes: ['form'], formLimit: '256kb', encoding: 'utf-8' });

  router.use(async function consoleErrors(ctx: Context, next: Next) {
    try {
      await next();
    } catch (err) {
      if (err instanceof ApiProblem) return sendPage(ctx, { title: 'Not possible' }, problemBody(err), err.status >= 500 ? 502 : err.status);
      const status = (err as { status?: number; expose?: boolean }).expose ? (err as { status: number }).status : 500;
      if (status >= 500) ctx.state.log?.error({ err }, 'console page failed');
      plainPage(ctx, status >= 500 ? 'Something went wrong' : 'Bad request', html`<p>The console could not do that${status >= 500 ? ` (request ${String(ctx.state.requestId ?? '')})` : ''}. <a href="/admin">Back to the console</a></p>`, status);
    }
  });

  router.get('/assets/:file', (ctx) => {
    const asset = assets[ctx.params.file!];
    if (!asset) return void (ctx.status = 404);
    ctx.type = asset.type;
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.set('x-content-type-options', 'nosniff');
    ctx.body = asset.body;
  });

  router.get('/sign-in', async (ctx) => {
    const { url, flow } = await oidc.authorizationUrl(localReturn(ctx.query.return_to), typeof ctx.query.org === 'string' && uuid.test(ctx.query.org) ? ctx.query.org : undefined);
    await cookies.setFlow(ctx, flow);
    ctx.redirect(url);
  });

  router.get('/callback', async (ctx) => {
    const flow = await cookies.flow(ctx);
    cookies.clear(ctx, 'flow');
    if (!flow) return plainPage(ctx, 'Sign-in expired', html`<p>This sign-in started too long ago or in another browser. <a href="/admin/sign-in">Sign in again</a></p>`, 400);
    let session: ConsoleSession;
    try {
      session = await oidc.finish(new URL(`${config.publicUrl}${ctx.originalUrl}`), flow);
    } catch (err) {
      ctx.state.log?.info({ err: (err as Error).message }, 'console sign-in refused');
      return plainPage(ctx, 'Sign-in failed', html`<p>Gatehouse could not complete the sign-in. <a href="/admin/sign-in">Try again</a></p>`, 400);
    }
    await cookies.setSession(ctx, session);
    ctx.redirect(flow.returnTo === '/admin' ? `/admin/orgs/${session.orgId}` : flow.returnTo);
  });

  router.get('/signed-out', (ctx) => plainPage(ctx, 'Signed out', html`<p>You are signed out of the console. <a href="/admin/sign-in">Sign in</a></p>`));

  router.post('/sign-out', forms, async (ctx) => {
    const session = await cookies.session(ctx);
    if (session && (ctx.request.body as { csrf?: string } | undefined)?.csrf !== session.csrf) {
      // Not this console's form (another site's, or a stale page): change nothing, and let the
      // person sign out here if they meant to.
      return plainPage(ctx, 'Sign out?', html`<p>This request did not come from a console page. You are still signed in.</p>
        <${PostForm} action="/admin/sign-out" csrf=${session.csrf}><button type="submit">Sign out</button><//>
        <p><a href="/admin">Back to the console</a></p>`, 403);
    }
    // No session: nothing to revoke; the issuer asks before it ends its own session.
    if (session) await oidc.revoke(session);
    cookies.clear(ctx, 'session');
    // End the issuer's session too, or the next sign-in would be silent.
    const end = new URL(`${config.publicUrl}/oidc/session/end`);
    end.searchParams.set('client_id', consoleClientId);
    end.searchParams.set('post_logout_redirect_uri', `${config.publicUrl}/admin/signed-out`);
    ctx.redirect(end.href);
  });

  router.use(setupPortalRoutes(deps).routes()); // the IT admin's setup portal: a setup link, no session

  // Everything below needs a session with a fresh access token.
  async function requireSession(ctx: Context, next: Next): Promise<void> {
    let session = await cookies.session(ctx);
    if (!session) return ctx.redirect(`/admin/sign-in?return_to=${encodeURIComponent(ctx.method === 'GET' ? ctx.path : '/admin')}`);
    if (session.accessTokenExpiresAt - 30 < Date.now() / 1000) {
      try {
        session = await oidc.refresh(session);
      } catch {
        cookies.clear(ctx, 'session'); // revoked, removed from the org, or disabled: sign in again
        return ctx.redirect('/admin/sign-in');
      }
      await cookies.setSession(ctx, session);
    }
    ctx.state.session = session;
    await next();
  }

  router.get('/', requireSession, (ctx) => ctx.redirect(`/admin/orgs/${(ctx.state.session as ConsoleSession).orgId}`));

  router.get('/switch', requireSession, (ctx) => {
    const org = typeof ctx.query.org === 'string' && uuid.test(ctx.query.org) ? ctx.query.org : (ctx.state.session as ConsoleSession).orgId;
    ctx.redirect(`/admin/orgs/${org}`);
  });

  // Org pages: the org in the path must be the session's, else (GET) the session switches to it
  // through the issuer, which checks membership; a post for another org is refused.
  async function inOrg(ctx: Context, next: Next): Promise<void> {
    const orgId = ctx.params.orgId!;
    let session = ctx.state.session as ConsoleSession;
    if (!uuid.test(orgId)) return plainPage(ctx, 'Not found', html`<p>No such organization. <a href="/admin">Back</a></p>`, 404);
    if (session.orgId !== orgId) {
      if (ctx.method !== 'GET') return plainPage(ctx, 'Organization changed', html`<p>This form belongs to another organization than the one you are in now. <a href=${`/admin/orgs/${orgId}`}>Open it</a></p>`, 409);
      try {
        session = await oidc.refresh(session, orgId);
      } catch {
        return plainPage(ctx, 'Not found', html`<p>You are not a member of that organization. <a href="/admin">Back</a></p>`, 404);
      }
      await cookies.setSession(ctx, session);
    }
    if (ctx.method === 'POST' && (ctx.request.body as { csrf?: string } | undefined)?.csrf !== session.csrf) {
      return plainPage(ctx, 'Form expired', html`<p>The form was too old or not from this console. <a href=${ctx.path}>Reload the page</a></p>`, 403);
    }
    ctx.state.console = consoleRequest(ctx, session, sections, deps);
    await next();
  }

  const org = new Router({ prefix: '/orgs/:orgId' });
  org.use(requireSession, forms, inOrg);
  org.get('/', (ctx) => {
    const nav = navFor(sections, (ctx as ConsoleContext).state.console.can, (ctx as ConsoleContext).state.console.base, '');
    ctx.redirect(nav[0]?.href ?? '/admin/signed-out');
  });
  const pages: OrgPages = {
    get: (path, handler) => void org.get(path, (ctx) => handler(ctx as ConsoleContext)),
    post: (path, handler) => void org.post(path, (ctx) => handler(ctx as ConsoleContext)),
  };
  for (const section of sections) section.routes(pages);
  router.use(org.routes(), org.allowedMethods());
  return router;
}

function consoleRequest(ctx: Context, session: ConsoleSession, sections: readonly ConsoleSection[], deps: AdminDeps): ConsoleRequest {
  const api = new ConsoleApi(deps.selfUrl(), session.accessToken, ctx.ip);
  const held = new Set(session.permissions);
  const base = `/admin/orgs/${session.orgId}`;
  const can = (...permissions: string[]) => permissions.some((p) => held.has(p));
  return {
    session, api, base, can,
    orgId: session.orgId,
    csrf: session.csrf,
    async page(title, body, status = 200) {
      const header = await orgSwitcher(api, session);
      sendPage(ctx, { title, header, nav: navFor(sections, can, base, ctx.path), flash: takeFlash(ctx) }, body, status);
    },
    done(to, text, kind = 'ok') {
      putFlash(ctx, text, kind);
      ctx.status = 303;
      ctx.redirect(to);
    },
  };
}
