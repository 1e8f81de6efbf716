import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Config } from '../../config/config.schema.ts';
import type { Database } from '../db/database.ts';
import { SignInThrottle } from '../oidc/interactions/sign-in-throttle.ts';
import { ApiProblem, ConsoleApi } from './console-api.ts';
import { plainPage } from './console-context.ts';
import { ConsoleCookies, newCsrfToken, type PlatformSession } from './console-session.ts';
import { orgsTable, searchForm, signInForm, type PlatformOrg } from './pages/platform-orgs.view.ts';
import { html, sendPage, type VNode } from './view.ts';

// The platform operators' view (issue 8 item 5) at /admin/platform: a console of its own for
// holders of a platform API key (operators have no user account). Like the org console it is a
// client of the management API, here of GET /platform/orgs alone, which answers counts and health
// and never an org's secrets, people or audit events. An org member's console session opens
// nothing here: it lives in another cookie, sealed for another use.

export interface PlatformConsoleDeps {
  config: Config;
  db: Database;
  /** This node's loopback listener (set once it listens). */
  selfUrl: () => string;
}

const badKey = 'That is not an active platform API key.';
const tooMany = 'That is not an active platform API key, and too many wrong keys came from your address. Check the key: an active one still signs you in.';

/**
 * Wrong keys per client address, with the hosted sign-in's window and limit (5 per 15 minutes).
 * It only slows wrong keys and never refuses a right one: a platform key (192 random bits) cannot
 * be guessed, and refusing right keys would let anyone behind the operators' shared address lock
 * them all out with a few anonymous posts.
 */
function keyAttempts(db: Database, ip: string) {
  const key = `platform-console:ip:${ip}`;
  return {
    failedPastLimit: () => db.withoutOrg((em) => SignInThrottle.attemptsOf(em, key).failedPastLimit()),
    cleared: () => db.withoutOrg((em) => SignInThrottle.attemptsOf(em, key).cleared()),
  };
}

function header(session: PlatformSession): VNode {
  return html`<div class="session">
    <span class="role">Platform operator</span>
    <form method="post" action="/admin/platform/sign-out">
      <input type="hidden" name="csrf" value=${session.csrf} />
      <button type="submit" class="secondary">Sign out</button>
    </form>
  </div>`;
}

export function platformConsoleRoutes(deps: PlatformConsoleDeps): Router {
  const cookies = new ConsoleCookies(deps.config);
  const router = new Router({ prefix: '/admin/platform' });
  const forms = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });
  const api = (ctx: Context, key: string) => new ConsoleApi(deps.selfUrl(), key, ctx.ip);

  router.get('/sign-in', (ctx) => sendPage(ctx, { title: 'Platform operator sign-in' }, signInForm()));

  router.post('/sign-in', forms, async (ctx) => {
    const key = String((ctx.request.body as { key?: unknown } | undefined)?.key ?? '').trim();
    const attempts = keyAttempts(deps.db, ctx.ip);
    try {
      // The API decides what a platform key is: the console only asks it.
      await api(ctx, key).get('/platform/orgs', { limit: '1' });
    } catch (err) {
      if (!(err instanceof ApiProblem) || (err.status !== 401 && err.status !== 403)) throw err;
      // Counted and compared in one statement, so concurrent wrong keys cannot slip past the limit.
      const blocked = await attempts.failedPastLimit();
      ctx.state.log?.info({ status: err.status, blocked }, 'platform console sign-in refused');
      return blocked
        ? sendPage(ctx, { title: 'Platform operator sign-in' }, signInForm(tooMany), 429)
        : sendPage(ctx, { title: 'Platform operator sign-in' }, signInForm(badKey), 401);
    }
    await attempts.cleared();
    await cookies.setPlatformSession(ctx, { key, csrf: newCsrfToken() });
    ctx.status = 303;
    ctx.redirect('/admin/platform');
  });

  router.post('/sign-out', forms, async (ctx) => {
    const session = await cookies.platformSession(ctx);
    // A cross-site post cannot sign the operator out (the form carries the session's token).
    if (session && (ctx.request.body as { csrf?: string } | undefined)?.csrf !== session.csrf) {
      return plainPage(ctx, 'Form expired', html`<p>The form was too old or not from this console. <a href="/admin/platform">Back</a></p>`, 403);
    }
    cookies.clearPlatformSession(ctx);
    ctx.status = 303;
    ctx.redirect('/admin/platform/sign-in');
  });

  async function requireOperator(ctx: Context, next: Next): Promise<void> {
    const session = await cookies.platformSession(ctx);
    if (!session) return ctx.redirect('/admin/platform/sign-in');
    ctx.state.platformSession = session;
    try {
      await next();
    } catch (err) {
      if (!(err instanceof ApiProblem)) throw err;
      if (err.status === 401 || err.status === 403) {
        cookies.clearPlatformSession(ctx); // the key was revoked since sign-in
        return ctx.redirect('/admin/platform/sign-in');
      }
      sendPage(ctx, { title: 'Organizations', header: header(session) }, html`<p class="flash error" role="alert">${err.message}</p><p><a href="/admin/platform">Back to all organizations</a></p>`, err.status >= 500 ? 502 : err.status);
    }
  }

  router.get('/', requireOperator, async (ctx) => {
    const session = ctx.state.platformSession as PlatformSession;
    const q = typeof ctx.query.q === 'string' ? ctx.query.q.trim() : '';
    const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
    const page = await api(ctx, session.key).get<{ data: PlatformOrg[]; nextCursor: string | null }>('/platform/orgs', { limit: '50', q, cursor });
    const next = page.nextCursor ? `/admin/platform?${new URLSearchParams({ ...(q ? { q } : {}), cursor: page.nextCursor })}` : null;
    sendPage(ctx, { title: 'Organizations', header: header(session) }, html`
      ${searchForm(q)}
      ${q ? html`<p>Showing organizations whose name or slug contains “${q}”. <a href="/admin/platform">Show all</a></p>` : null}
      ${orgsTable(page.data)}
      ${next ? html`<p><a href=${next}>Next page</a></p>` : null}`);
  });

  return router;
}
