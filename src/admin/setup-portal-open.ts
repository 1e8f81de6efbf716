import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { ApiProblem, ConsoleApi } from './console-api.ts';
import { formField, plainPage } from './console-context.ts';
import type { AdminDeps } from './admin.routes.ts';
import { setupPortalPath, type SetupPortalCookie } from './setup-portal-cookie.ts';
import { formatDate, html, sendPage, type VNode } from './view.ts';

// Opening a setup link takes a person's click, not just a visit: otherwise any site could send a
// victim's browser to the attacker's own link (a login CSRF) and have them set up SSO or SCIM for
// the attacker's org. The link's URL shows a page naming the org; only its form, carrying a nonce
// that is also in a cookie of this browser, keeps the link in the portal's cookie.

export interface CurrentLink {
  orgId: string;
  orgName: string;
  orgSlug: string;
  scope: 'sso' | 'scim' | 'both';
  expiresAt: string;
}

export const tokenShape = /^ghs_[0-9a-f]{16}_[0-9a-f]{48}$/;
export const scopeWords = { sso: 'SSO', scim: 'SCIM', both: 'SSO and SCIM' };
const continuePath = `${setupPortalPath}/continue`;

/** The link as the API sees it now; null when it no longer works (401), whatever the reason. */
export async function currentLink(deps: AdminDeps, token: string, ip: string): Promise<CurrentLink | null> {
  try {
    return await new ConsoleApi(deps.selfUrl(), token, ip).get<CurrentLink>('/setup-links/current');
  } catch (err) {
    if (err instanceof ApiProblem && (err.status === 401 || err.status === 404)) return null;
    throw err;
  }
}

export function linkGone(ctx: Context): void {
  plainPage(ctx, 'This setup link no longer works', html`<p>The link has expired or was revoked. Ask the person who sent it for a new one.</p>`, 410);
}

/** A page whose URL holds a token: no Referer may carry it away (sendPage's default is same-origin). */
function tokenPage(ctx: Context, send: () => void): void {
  send();
  ctx.set('referrer-policy', 'no-referrer');
}

function named(link: CurrentLink): string {
  return `${scopeWords[link.scope]} for ${link.orgName} (${link.orgSlug})`;
}

function interstitial(link: CurrentLink, token: string, nonce: string, previous: CurrentLink | null): VNode {
  return html`
    <p>This setup link lets whoever continues configure ${scopeWords[link.scope]} for this Gatehouse organization:</p>
    <dl class="values">
      <dt>Organization</dt><dd>${link.orgName}</dd>
      <dt>Slug</dt><dd>${link.orgSlug}</dd>
      <dt>Organization ID</dt><dd>${link.orgId}</dd>
      <dt>What you may set up</dt><dd>${scopeWords[link.scope]}</dd>
      <dt>Link expires</dt><dd>${formatDate(link.expiresAt)}</dd>
    </dl>
    ${previous ? html`<p class="warning">You are setting up ${named(previous)}; continuing switches to ${named(link)}.</p>` : null}
    <p>Continue only if you expected this link from ${link.orgName}. If you did not, close this page: nothing has changed.</p>
    <form method="post" action=${continuePath}>
      <input type="hidden" name="token" value=${token} />
      <input type="hidden" name="nonce" value=${nonce} />
      <div class="actions"><button type="submit">Continue</button></div>
    </form>`;
}

/** GET /setup/:token (the page before the link opens) and POST /setup/continue (opening it). */
export function openLinkRoutes(router: Router, deps: AdminDeps, cookie: SetupPortalCookie, forms: Middleware): void {
  router.get('/:token', async (ctx, next) => {
    const token = ctx.params.token!;
    if (!tokenShape.test(token)) return next();
    ctx.set('referrer-policy', 'no-referrer');
    const link = await currentLink(deps, token, ctx.ip);
    if (!link) return tokenPage(ctx, () => linkGone(ctx));
    const open = await cookie.open(ctx);
    if (open?.token === token) return void ctx.redirect(setupPortalPath); // already this link: nothing changes
    // The link this browser is setting up now, if it still works: the page says it would be replaced.
    const previous = open ? await currentLink(deps, open.token, ctx.ip) : null;
    const nonce = await cookie.newNonce(ctx);
    tokenPage(ctx, () => sendPage(ctx, { title: `Set up ${scopeWords[link.scope]} for ${link.orgName}?` }, interstitial(link, token, nonce, previous)));
  });

  router.post('/continue', forms, async (ctx) => {
    const token = formField(ctx, 'token');
    // The nonce is spent first: a refused post leaves nothing to retry with.
    const fromHere = await cookie.spendNonce(ctx, formField(ctx, 'nonce'));
    // A second click of Continue: this link is already open, and nothing changes.
    if (!fromHere && (await cookie.open(ctx))?.token === token) return void ctx.redirect(setupPortalPath);
    if (!fromHere || !tokenShape.test(token)) {
      return plainPage(ctx, 'Open your setup link again', html`<p>This form did not come from the setup link's own page in this browser, or it is too old. Nothing has changed: open the link you were sent again.</p>`, 403);
    }
    const link = await currentLink(deps, token, ctx.ip);
    if (!link) return linkGone(ctx);
    await cookie.seal(ctx, token, new Date(link.expiresAt));
    ctx.status = 303;
    ctx.redirect(setupPortalPath);
  });
}
