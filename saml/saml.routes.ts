import Router from '@koa/router';
import type { SsoDeps, SsoEdge } from '../src/federation/sso-edge.ts';

/** The SAML SP edge's browser-facing routes: /sso/saml/:connectionId/{acs,metadata}. */
export function samlRoutes(_deps: SsoDeps): Router {
  return new Router({ prefix: '/sso/saml' });
}

/** SP-initiated SAML login: an AuthnRequest over the connection's binding. */
export function samlEdge(_deps: SsoDeps): SsoEdge {
  return { start: async () => { throw new Error('not yet'); } };
}
