import type { Server } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import mount from 'koa-mount';
import Provider, { type ClientMetadata } from 'oidc-provider';
import { freePort } from './cli.ts';

// An upstream OpenID Provider for SSO tests: a separate oidc-provider instance (its own Koa
// server on loopback), whose sign-in page is a tiny handler that logs in `nextAccount` at once.

export type IdpClaims = Record<string, unknown>;

export interface TestIdp {
  issuer: string;
  provider: Provider;
  /** Accounts by subject: the claims the IdP releases for them. */
  accounts: Map<string, IdpClaims>;
  /** Who the next sign-in logs in as; null: the person refuses (error=access_denied). */
  nextAccount: string | null;
  /** The authorization requests the IdP received (their query parameters). */
  authorizations: URLSearchParams[];
  close(): Promise<void>;
}

export interface IdpOptions {
  port?: number;
  clients: ClientMetadata[];
  /** Like Google: scope claims in the ID token too (oidc-provider puts them only in userinfo by default). */
  claimsInIdToken?: boolean;
}

export async function startIdp(options: IdpOptions): Promise<TestIdp> {
  const port = options.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  const accounts = new Map<string, IdpClaims>();
  // oidc-provider warns loudly about its development defaults (memory adapter, generated keys): fine here.
  const warn = console.warn;
  console.warn = () => {};
  const provider = new Provider(issuer, {
    clients: options.clients,
    findAccount: (_ctx, sub) => (accounts.has(sub) ? { accountId: sub, claims: () => ({ sub, ...accounts.get(sub) }) } : undefined),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'], groups: ['groups'], tenant: ['tid'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    conformIdTokenClaims: !options.claimsInIdToken,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: { Interaction: 600, Grant: 600, Session: 600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
  });
  console.warn = warn;
  provider.keys = ['upstream idp test cookie key'];
  const idp: TestIdp = { issuer, provider, accounts, nextAccount: null, authorizations: [], close: async () => {} };
  const koa = new Koa();
  // koa-mount runs the provider with this app's context: its cookies are signed with these keys.
  koa.keys = provider.keys;
  koa.use(async (ctx, next) => {
    if (ctx.path === '/auth') idp.authorizations.push(new URLSearchParams(ctx.querystring));
    await next();
  });
  const router = new Router();
  router.get('/interaction/:uid', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = idp.nextAccount;
    if (!accountId) {
      ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, { error: 'access_denied', error_description: 'The person said no' }));
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false }));
  });
  koa.use(router.routes());
  koa.use(mount(provider));
  const server: Server = await new Promise((resolve) => { const s = koa.listen(port, '127.0.0.1', () => resolve(s)); });
  idp.close = () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
  return idp;
}
