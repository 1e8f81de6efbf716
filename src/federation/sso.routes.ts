import Router from '@koa/router';
import type { SsoDeps, SsoEdge } from './sso-edge.ts';

/** The hosted sign-in's SSO steps: /interaction/:uid/sso/… (start at a connection, finish with its answer). */
export function ssoRoutes(_deps: SsoDeps, _edges: { saml: SsoEdge; oidc: SsoEdge }): Router {
  return new Router({ prefix: '/interaction/:uid/sso' });
}
