import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { ConsoleApi } from './console-api.ts';
import { navFor, plainPage, putFlash, takeFlash, type ConsoleContext, type ConsoleHandler, type ConsoleRequest, type ConsoleSection } from './console-context.ts';
import type { AdminDeps } from './admin.routes.ts';
import { SetupPortalCookie, setupPortalPath, type SetupPortalState } from './setup-portal-cookie.ts';
import { currentLink, linkGone, openLinkRoutes, scopeWords, type CurrentLink } from './setup-portal-open.ts';
import { setupSections as defaultSections, type SetupSections } from './setup-sections.ts';
import { formatDate, html, sendPage, type VNode } from './view.ts';

// The IT admin's setup portal (issue 8, item 3): whoever opens a setup link configures the
// org's SSO and/or SCIM through the console's own sections, with the link as their only
// credential. Every page acts through the management API with that link, so what the link may
// not do is refused there (403), whatever a page offers; the portal also mounts and lists only the
// sections of the link's scope.

const scopePermissions = { sso: ['org:read', 'sso:manage'], scim: ['org:read', 'directories:manage'], both: ['org:read', 'sso:manage', 'directories:manage'] };

function sectionsOf(all: SetupSections, scope: CurrentLink['scope']): readonly ConsoleSection[] {
  return scope === 'both' ? [...all.sso, ...all.scim] : all[scope];
}

/** The portal at /admin/setup, nested in the console's router (its error page included). */
export function setupPortalRoutes(deps: AdminDeps, all: SetupSections = defaultSections): Router {
  const cookie = new SetupPortalCookie(deps.config);
  const router = new Router({ prefix: '/setup' });
  const forms = bodyParser({ enableTypes: ['form'], formLimit: '256kb', encoding: 'utf-8' });

  // Opening the link: a page naming the org, then a click (setup-portal-open.ts). The token is
  // kept in the sealed cookie only then, and the portal lives at a URL without it.
  openLinkRoutes(router, deps, cookie, forms);

  // Every other portal page: the cookie's link, checked with the API on each request, so a
  // revocation ends the portal at once.
  async function withLink(ctx: Context, next: Next): Promise<void> {
    const state = await cookie.open(ctx);
    if (!state) return plainPage(ctx, 'Open your setup link', html`<p>This page needs the setup link you were sent. Open the link itself in this browser.</p>`, 401);
    const link = await currentLink(deps, state.token, ctx.ip);
    if (!link) {
      cookie.clear(ctx);
      return linkGone(ctx);
    }
    if (ctx.method === 'POST' && (ctx.request.body as { csrf?: string } | undefined)?.csrf !== state.csrf) {
      return plainPage(ctx, 'Form expired', html`<p>The form was too old or not from this page. <a href=${ctx.path}>Reload the page</a></p>`, 403);
    }
    ctx.state.setupLink = link;
    ctx.state.console = portalRequest(ctx, deps, state, link, sectionsOf(all, link.scope));
    await next();
  }

  const portal = new Router();
  portal.use(forms, withLink);
  portal.get('/', async (ctx) => home(ctx as ConsoleContext, ctx.state.setupLink as CurrentLink, sectionsOf(all, (ctx.state.setupLink as CurrentLink).scope)));
  // Every section of either scope is mounted once; a request reaches one only if it is in the
  // link's scope (else 404, as a page that does not exist).
  for (const [scope, sections] of [['sso', all.sso], ['scim', all.scim]] as const) {
    for (const section of sections) section.routes(scoped(portal, scope));
  }
  router.use(portal.routes(), portal.allowedMethods());
  router.all('/{*rest}', (ctx) => plainPage(ctx, 'Not found', html`<p>There is no such page in this setup. <a href=${setupPortalPath}>Back</a></p>`, 404));
  return router;
}

function scoped(portal: Router, scope: 'sso' | 'scim') {
  const inScope = (handler: ConsoleHandler) => async (ctx: Context) => {
    const link = ctx.state.setupLink as CurrentLink;
    if (link.scope !== scope && link.scope !== 'both') return plainPage(ctx, 'Not found', html`<p>There is no such page in this setup. <a href=${setupPortalPath}>Back</a></p>`, 404);
    await handler(ctx as ConsoleContext);
  };
  return {
    get: (path: string, handler: ConsoleHandler) => void portal.get(path, inScope(handler)),
    post: (path: string, handler: ConsoleHandler) => void portal.post(path, inScope(handler)),
  };
}

function portalRequest(ctx: Context, deps: AdminDeps, state: SetupPortalState, link: CurrentLink, sections: readonly ConsoleSection[]): ConsoleRequest {
  const api = new ConsoleApi(deps.selfUrl(), state.token, ctx.ip);
  const held = new Set(scopePermissions[link.scope]);
  const can = (...permissions: string[]) => permissions.some((p) => held.has(p));
  const header = html`<div class="session"><span class="role">Setting up ${scopeWords[link.scope]} for ${link.orgName}</span>
    <span class="role">Link expires ${formatDate(link.expiresAt)}</span></div>`;
  return {
    // No person is signed in: the link is the credential (userId empty, never a member's).
    session: { userId: '', orgId: link.orgId, role: 'setup_link', permissions: [...held], accessToken: state.token, accessTokenExpiresAt: Date.parse(link.expiresAt) / 1000, refreshToken: '', csrf: state.csrf },
    api, can, base: setupPortalPath, orgId: link.orgId, csrf: state.csrf,
    async page(title: string, body: VNode, status = 200) {
      const nav = [{ href: setupPortalPath, label: 'Overview', current: ctx.path === setupPortalPath }, ...navFor(sections, can, setupPortalPath, ctx.path)];
      sendPage(ctx, { title, header, nav, flash: takeFlash(ctx) }, body, status);
    },
    done(to: string, text: string, kind: 'ok' | 'error' = 'ok') {
      putFlash(ctx, text, kind);
      ctx.status = 303;
      ctx.redirect(to);
    },
  };
}

async function home(ctx: ConsoleContext, link: CurrentLink, sections: readonly ConsoleSection[]): Promise<void> {
  await ctx.state.console.page(`Set up ${scopeWords[link.scope]} for ${link.orgName}`, html`
    <p>${link.orgName} asked you to configure ${scopeWords[link.scope]} for their Gatehouse organization. This link works until ${formatDate(link.expiresAt)}, or until they revoke it.</p>
    <h2>What you can set up</h2>
    ${sections.length
      ? html`<ul>${sections.map((s) => html`<li><a href=${`${setupPortalPath}/${s.path}`}>${s.label}</a></li>`)}</ul>`
      : html`<p>The setup pages for ${scopeWords[link.scope]} are not available yet.</p>`}`);
}
