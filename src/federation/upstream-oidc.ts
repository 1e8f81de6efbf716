import Router from '@koa/router';
import type { SsoDeps, SsoEdge } from './sso-edge.ts';

/** Upstream OIDC connections (openid-client): the callback at /sso/oidc/:connectionId/callback. */
export function upstreamOidcRoutes(_deps: SsoDeps): Router {
  return new Router({ prefix: '/sso/oidc' });
}

/** SP-initiated login through an org's OIDC connection: code flow with PKCE, state and nonce. */
export function upstreamOidcEdge(_deps: SsoDeps): SsoEdge {
  return { start: async () => { throw new Error('not yet'); } };
}
