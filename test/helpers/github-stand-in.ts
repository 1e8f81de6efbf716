import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import { freePort } from './cli.ts';

// A stand-in for GitHub's OAuth 2 endpoints and REST API (no OIDC): /login/oauth/authorize
// approves at once, /login/oauth/access_token checks the client secret and PKCE, /api/user and
// /api/user/emails answer for the token's user.

export interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
  emails: { email: string; primary: boolean; verified: boolean; visibility: string | null }[];
}

export interface GitHubStandIn {
  url: string;
  apiUrl: string;
  /** Who the next authorization approves. */
  nextUser: GitHubUser | null;
  /** The authorization requests received (their query parameters). */
  authorizations: URLSearchParams[];
  close(): Promise<void>;
}

export async function startGitHub(clientId: string, clientSecret: string): Promise<GitHubStandIn> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const codes = new Map<string, { user: GitHubUser; challenge: string; redirectUri: string }>();
  const tokens = new Map<string, GitHubUser>();
  const gh: GitHubStandIn = { url, apiUrl: `${url}/api`, nextUser: null, authorizations: [], close: async () => {} };
  const router = new Router();
  router.get('/login/oauth/authorize', (ctx) => {
    const q = new URLSearchParams(ctx.querystring);
    gh.authorizations.push(q);
    const back = new URL(q.get('redirect_uri')!);
    back.searchParams.set('state', q.get('state') ?? '');
    if (!gh.nextUser || q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256') {
      back.searchParams.set('error', 'access_denied');
    } else {
      const code = randomBytes(10).toString('hex');
      codes.set(code, { user: gh.nextUser, challenge: q.get('code_challenge')!, redirectUri: q.get('redirect_uri')! });
      back.searchParams.set('code', code);
    }
    ctx.redirect(back.href);
  });
  router.post('/login/oauth/access_token', bodyParser({ enableTypes: ['form'] }), (ctx) => {
    const body = (ctx.request as { body?: Record<string, string> }).body ?? {};
    const grant = codes.get(body.code ?? '');
    codes.delete(body.code ?? '');
    const challenge = createHash('sha256').update(body.code_verifier ?? '').digest('base64url');
    ctx.type = 'json';
    // Like GitHub: errors come back with status 200 and an `error` member.
    if (!grant || body.client_id !== clientId || body.client_secret !== clientSecret || grant.challenge !== challenge || grant.redirectUri !== body.redirect_uri) {
      ctx.body = { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' };
      return;
    }
    const token = `gho_${randomBytes(16).toString('hex')}`;
    tokens.set(token, grant.user);
    ctx.body = { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' };
  });
  const userOf = (ctx: Koa.Context) => tokens.get(String(ctx.get('authorization')).replace(/^Bearer /i, ''));
  router.get('/api/user', (ctx) => {
    const user = userOf(ctx);
    if (!user) return ctx.throw(401);
    ctx.body = { id: user.id, login: user.login, name: user.name };
  });
  router.get('/api/user/emails', (ctx) => {
    const user = userOf(ctx);
    if (!user) return ctx.throw(401);
    ctx.body = user.emails;
  });
  const koa = new Koa();
  koa.use(router.routes());
  const server: Server = await new Promise((resolve) => { const s = koa.listen(port, '127.0.0.1', () => resolve(s)); });
  gh.close = () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
  return gh;
}
