import { randomBytes } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { SsoError, type SsoDeps, type SsoEdge } from '../src/federation/sso-edge.ts';
import type { Connection } from '../src/modules/connections/connection.entity.ts';
import { escapeHtml, layout, messagePage } from '../src/oidc/interactions/views.ts';
import { acceptResponse, unverifiedRequestId } from './acs.ts';
import { samlSettings, serviceProvider, spMetadata } from './service-provider.ts';

/** Seconds an AuthnRequest may wait for its answer (the person signs in at the IdP meanwhile). */
const REQUEST_TTL_SECONDS = 600;

// The form body holds the base64 SAMLResponse, url-encoded ('+', '/', '=' take three bytes);
// acceptResponse bounds the response itself at 256 KB of base64.
const formParser = bodyParser({ enableTypes: ['form'], formLimit: '1mb' });

/** The ACS's form body; whatever the parser refuses (too large, not the encoding it claims) is the sender's error. */
const acsForm: Middleware = async function acsForm(ctx, next) {
  try {
    await formParser(ctx, async () => {});
  } catch (err) {
    if ((err as { status?: number }).status === 413) throw new SsoError(413, 'saml.response_too_large', 'The SAML response is too large.');
    throw new SsoError(400, 'saml.unreadable', 'The SAML response could not be read. Start again from the application.');
  }
  await next();
};

/** Every SAML page: no caching, no framing; a rejection is a page with a clear message and a warn log, never a stack. */
function samlPages(deps: SsoDeps): Middleware {
  return async function samlPage(ctx, next) {
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (err) {
      const known = err instanceof SsoError;
      const status = known ? err.status : 500;
      const log = ctx.state.log ?? deps.logger;
      if (known) log.warn({ code: err.code, connectionId: ctx.params?.connectionId }, 'SAML request rejected');
      else log.error({ err }, 'SAML endpoint failed');
      ctx.status = status;
      ctx.type = 'html';
      ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
      const message = known && status < 500 ? err.message : `Sign-in could not continue. (request ${ctx.state.requestId})`;
      ctx.body = messagePage('Single sign-on failed', message);
    }
  };
}

const notFound = () => new SsoError(404, 'connection.not_found', 'This single sign-on connection does not exist or is not active.');

/** A SAML connection, active or not: an inactive one serves its metadata (the IdP is set up before it is turned on) and answers tests. */
async function samlConnection(deps: SsoDeps, id: string): Promise<Connection> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const connection = uuid.test(id) ? await deps.platform.findConnection(id) : null;
  if (!connection || connection.type !== 'saml') throw notFound();
  return connection;
}

/** The SP edge's browser-facing routes: /sso/saml/:connectionId/{acs,metadata}. */
export function samlRoutes(deps: SsoDeps): Router {
  const router = new Router({ prefix: '/sso/saml' });
  router.use(samlPages(deps));

  router.get('/:connectionId/metadata', async (ctx) => {
    const connection = await samlConnection(deps, ctx.params.connectionId!);
    ctx.type = 'application/samlmetadata+xml';
    ctx.body = spMetadata(deps, connection);
  });

  // SAML Bindings §3.5: the IdP's HTTP-POST of SAMLResponse (RelayState is not used: the
  // request is found by the signed InResponseTo).
  router.post('/:connectionId/acs', acsForm, async (ctx) => {
    const connection = await samlConnection(deps, ctx.params.connectionId!);
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    // An inactive connection takes the answer to a test sign-in only; anything else is refused as before.
    if (!(await deps.logins.answerable(connection, unverifiedRequestId(body.SAMLResponse)))) throw notFound();
    const { requestId, profile } = await acceptResponse(deps, connection, body.SAMLResponse, ctx.state.log ?? deps.logger).catch(async (err: unknown) => {
      // A test sign-in reports the check that failed to the console instead of an error page.
      if (err instanceof SsoError && (await deps.logins.tests.failed(ctx, connection, unverifiedRequestId(body.SAMLResponse), err))) return { requestId: null, profile: null };
      throw err;
    });
    if (!profile) return;
    await deps.logins.verified(ctx, { kind: 'connection', connection }, requestId, profile);
  });
  return router;
}

/** SAML Bindings §3.5.4: an auto-submitting form to the IdP; the button is for browsers without scripts. */
function postBindingPage(ctx: Context, ssoUrl: string, fields: Record<string, string>): void {
  const nonce = randomBytes(16).toString('base64');
  const origin = new URL(ssoUrl).origin;
  ctx.set('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; form-action ${origin}; frame-ancestors 'none'`);
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'html';
  const inputs = Object.entries(fields).map(([name, value]) => `  <input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join('\n');
  ctx.body = layout({
    title: 'Continue to your identity provider',
    body: `<form method="post" action="${escapeHtml(ssoUrl)}">
${inputs}
  <p>Your organization signs you in with its identity provider.</p>
  <button type="submit">Continue</button>
</form>
<script nonce="${nonce}">document.forms[0].submit();</script>`,
  });
}

/** SP-initiated SAML login: a signed AuthnRequest over the connection's binding, recorded in sso_requests. */
export function samlEdge(deps: SsoDeps): SsoEdge {
  return {
    async start(ctx, connection, interactionUid, testId) {
      const settings = samlSettings(connection);
      // SAML Core §1.3.4: an xs:ID starts with a letter or '_'; 160 random bits.
      const requestId = `_${randomBytes(20).toString('hex')}`;
      const saml = serviceProvider(deps, connection, requestId);
      const redirect = settings.ssoBinding !== 'post';
      // Signed: the query string (SigAlg, Signature) for HTTP-Redirect, an enveloped XML signature for HTTP-POST.
      const target = redirect ? await saml.getAuthorizeUrlAsync('', undefined, {}) : await saml.getAuthorizeMessageAsync('', undefined, {});
      await deps.requests.create({ id: requestId, provider: 'saml', connectionId: connection.id, interactionUid, testId: testId ?? null, ttlSeconds: REQUEST_TTL_SECONDS });
      if (typeof target === 'string') {
        ctx.status = 303;
        ctx.redirect(target);
      } else {
        postBindingPage(ctx, settings.ssoUrl, target as Record<string, string>);
      }
    },
  };
}
