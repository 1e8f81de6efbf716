import Router from '@koa/router';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import type { Config } from '../../config/config.schema.ts';
import { hostedPages, InteractionFlow, type InteractionDeps } from '../oidc/interactions/flow.ts';
import { githubProfile } from './github-profile.ts';
import { beginCodeFlow, redeemCode, requestOfCallback, type CodeFlowClient } from './oidc-code-flow.ts';
import { profileFromClaims } from './oidc-claims.ts';
import { OidcDiscovery } from './oidc-discovery.ts';
import { claimsOf } from './upstream-oidc.ts';
import { SsoError, ssoRejections, type SsoDeps } from './sso-edge.ts';
import type { SsoProfile } from './sso-profile.ts';

export type PlatformProvider = 'google' | 'github';

const labels: Record<PlatformProvider, string> = { google: 'Continue with Google', github: 'Continue with GitHub' };

/** The platform-wide providers the operator configured (a client id and secret each). */
export function platformProviders(config: Config): PlatformProvider[] {
  const on: PlatformProvider[] = [];
  if (config.googleClientId && config.googleClientSecret) on.push('google');
  if (config.githubClientId && config.githubClientSecret) on.push('github');
  return on;
}

/** The email page's "Continue with …" links for interaction `uid` (none when nothing is configured). */
export function socialLinks(config: Config, uid: string): { label: string; href: string }[] {
  return platformProviders(config).map((p) => ({ label: labels[p], href: `/interaction/${uid}/social/${p}` }));
}

/**
 * Sign-in with Google (an upstream OIDC provider with the platform's client) and GitHub (OAuth 2
 * without OIDC: no ID token, the profile comes from its REST API), through the same code flow
 * as an org's OIDC connection. Both end in SsoLogins.verified with the email's own verified flag.
 */
class PlatformSignIn {
  readonly #deps: SsoDeps;
  readonly #discovery: OidcDiscovery;

  constructor(deps: SsoDeps) {
    this.#deps = deps;
    this.#discovery = new OidcDiscovery(deps.config);
  }

  providerOf(name: string | undefined): PlatformProvider {
    const provider = platformProviders(this.#deps.config).find((p) => p === name);
    if (!provider) throw new SsoError(404, 'sso.provider_not_found', 'This sign-in method is not available.');
    return provider;
  }

  async client(provider: PlatformProvider): Promise<CodeFlowClient> {
    const c = this.#deps.config;
    const redirectUri = `${c.publicUrl}/sso/${provider}/callback`;
    if (provider === 'google') {
      const { config } = await this.#discovery.configuration({
        key: 'google', issuer: c.googleIssuer, discoveryUrl: null, clientId: c.googleClientId!, clientSecret: () => c.googleClientSecret!,
      });
      return { provider, connectionId: null, config, redirectUri, scope: 'openid email profile', openid: true };
    }
    const base = c.githubUrl.replace(/\/+$/, '');
    const config = new oidc.Configuration(
      { issuer: base, authorization_endpoint: `${base}/login/oauth/authorize`, token_endpoint: `${base}/login/oauth/access_token` },
      c.githubClientId!, undefined, oidc.ClientSecretPost(c.githubClientSecret!),
    );
    if (this.#discovery.insecureAllowed) oidc.allowInsecureRequests(config);
    return { provider, connectionId: null, config, redirectUri, scope: 'read:user user:email', openid: false };
  }

  async callback(ctx: Context, provider: PlatformProvider): Promise<void> {
    const request = await requestOfCallback(ctx, this.#deps, provider, null);
    const client = await this.client(provider);
    const tokens = await redeemCode(ctx, this.#deps, client, request);
    const profile: SsoProfile = provider === 'google'
      ? profileFromClaims(await claimsOf(client, tokens, 'google'), 'google')
      : await githubProfile(client.config, this.#deps.config.githubApiUrl, tokens.access_token);
    await this.#deps.logins.verified(ctx, { kind: 'platform', provider }, request.id, profile);
  }
}

/**
 * `GET /interaction/:uid/social/:provider` (from the email page: the interaction of this browser,
 * loaded as every hosted step loads it) and `GET /sso/:provider/callback`.
 */
export function platformSignInRoutes(deps: SsoDeps, interaction: InteractionDeps): Router {
  const router = new Router();
  const flow = new InteractionFlow(interaction);
  const platform = new PlatformSignIn(deps);
  const pages = [hostedPages(), ssoRejections()];
  router.get('/interaction/:uid/social/:provider', ...pages, async (ctx) => {
    const details = await flow.load(ctx, false);
    const provider = platform.providerOf(ctx.params.provider);
    await beginCodeFlow(ctx, deps, await platform.client(provider), details.uid);
  });
  for (const provider of ['google', 'github'] as const) {
    router.get(`/sso/${provider}/callback`, ...pages, (ctx) => platform.callback(ctx, platform.providerOf(provider)));
  }
  return router;
}
