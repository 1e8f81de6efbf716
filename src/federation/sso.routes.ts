import Router from '@koa/router';
import { z } from 'zod';
import { formBody, forms, hostedPages, InteractionError } from '../oidc/interactions/flow.ts';
import { ssoDisabledByPlan } from '../modules/billing/plan-effects.ts';
import { chooserPage } from './sso-views.ts';
import { ssoRejections, type SsoDeps, type SsoEdge } from './sso-edge.ts';

const connectionId = z.uuid();

/**
 * The hosted sign-in's SSO steps, all at the browser's own interaction:
 * - /interaction/:uid/sso/choose/:domain: several connections for a domain, pick one;
 * - /interaction/:uid/sso/ticket: continue (or not) as an IdP-initiated login's identity;
 * - /interaction/:uid/sso/:connectionId: start an SP-initiated login at that connection's IdP;
 * - /interaction/:uid/sso/done/:requestId: the IdP's verified answer; provision and finish.
 */
export function ssoRoutes(deps: SsoDeps, edges: { saml: SsoEdge; oidc: SsoEdge }): Router {
  const router = new Router({ prefix: '/interaction/:uid/sso' });
  const { flow } = deps.logins;
  // Refusals (an IdP's discovery failing at the start, JIT refusing at the end) are logged with their code.
  router.use(hostedPages(), ssoRejections());

  router.get('/choose/:domain', async (ctx) => {
    const details = await flow.load(ctx, false);
    const connections = await deps.platform.connectionsForDomain(ctx.params.domain!.toLowerCase());
    if (connections.length === 0) throw new InteractionError(404, 'No single sign-on is set up for this domain. Start again from the application.');
    ctx.type = 'html';
    ctx.body = chooserPage(connections[0]!.org_name, connections.map((c) => ({ name: c.name, href: flow.action(details, `sso/${c.id}`) })));
  });

  // The answer to the confirmation of an IdP-initiated login (sso-logins.ts).
  router.post('/ticket', forms, async (ctx) => {
    const details = await flow.load(ctx, true);
    await deps.logins.confirmIdpInitiated(ctx, details, formBody(ctx).decline === undefined);
  });

  router.get('/done/:requestId', async (ctx) => {
    const details = await flow.load(ctx, false);
    await deps.logins.complete(ctx, details, ctx.params.requestId!);
  });

  router.get('/:connectionId', async (ctx) => {
    const details = await flow.load(ctx, false);
    const id = connectionId.safeParse(ctx.params.connectionId);
    const connection = id.success ? await deps.platform.findConnection(id.data) : null;
    if (!connection?.active) throw new InteractionError(404, 'This single sign-on connection does not exist or is not active.');
    if (connection.planDisabledAt) throw new InteractionError(403, ssoDisabledByPlan);
    await edges[connection.type].start(ctx, connection, details.uid);
  });

  return router;
}
