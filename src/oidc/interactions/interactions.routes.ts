import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import { z } from 'zod';
import type { Config } from '../../../config/config.schema.ts';
import type { Database } from '../../db/database.ts';
import type { PlatformRepository } from '../../modules/platform/platform.repository.ts';
import { hashPassword, verifyPassword } from '../../modules/users/password.ts';
import { UsersRepository } from '../../modules/users/users.repository.ts';
import { GrantOrgsRepository } from '../grant-orgs.repository.ts';
import type { Issuer } from '../issuer.ts';
import { SignInThrottle } from './sign-in-throttle.ts';
import { emailPage, messagePage, orgPage, passwordPage } from './views.ts';

export interface InteractionDeps {
  config: Config;
  db: Database;
  platform: PlatformRepository;
  issuer: Issuer;
}

type Details = Awaited<ReturnType<Issuer['provider']['interactionDetails']>>;

const email = z.email().max(320);
const password = z.string().min(1).max(1024);

/**
 * The hosted sign-in: email, then password, then (for people in several orgs) the org. Pages
 * never say whether an email has an account. Each form carries a token bound to the interaction
 * (CSRF), on top of the SameSite interaction cookie.
 */
export function interactionRoutes(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const csrfKey = Buffer.from(hkdfSync('sha256', Buffer.from(deps.config.secretKey), Buffer.alloc(0), 'gatehouse interaction csrf v1', 32));
  const csrfOf = (uid: string) => createHmac('sha256', csrfKey).update(uid).digest('base64url');
  // Checked against when the email has no account, so a miss costs what a wrong password does.
  const decoyHash = hashPassword('decoy password that matches nothing');
  const throttle = new SignInThrottle(deps.db);

  async function load(ctx: Context, post: boolean): Promise<Details> {
    const details = await deps.issuer.provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new InteractionError(400, 'This sign-in link does not match your session. Start again from the application.');
    if (post) {
      const given = Buffer.from(String((ctx.request as { body?: Record<string, unknown> }).body?.csrf ?? ''));
      const expected = Buffer.from(csrfOf(details.uid));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new InteractionError(403, 'This form has expired. Go back and try again.');
      }
    }
    return details;
  }

  function action(details: Details, step: string): string {
    return `/interaction/${details.uid}/${step}`;
  }

  async function finish(ctx: Context, details: Details, userId: string, orgId: string): Promise<void> {
    const provider = deps.issuer.provider;
    const clientId = String(details.params.client_id);
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: userId, clientId });
    if (!grant) throw new InteractionError(400, 'This sign-in has expired. Start again from the application.');
    // First-party clients: what they asked for is granted, no consent screen.
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    if (typeof details.params.resource === 'string') grant.addResourceScope(details.params.resource, 'api');
    const grantId = await grant.save();
    await deps.db.inOrg(orgId, (em) => new GrantOrgsRepository(em).set(grantId, orgId, userId));
    const result: InteractionResults = { login: { accountId: userId }, consent: { grantId } };
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
  }

  /** After the password: the org the request named, the only one, or the person's pick. */
  async function chooseOrg(ctx: Context, details: Details, userId: string): Promise<void> {
    const orgs = await deps.platform.orgsOfUser(userId);
    const named = details.params.organization;
    if (typeof named === 'string' && named) {
      const org = orgs.find((o) => o.id === named || o.slug === named);
      if (!org) throw new InteractionError(403, 'You are not a member of the organization this application asked for.');
      return finish(ctx, details, userId, org.id);
    }
    if (orgs.length === 0) throw new InteractionError(403, 'Your account does not belong to any organization yet. Ask for an invitation.');
    if (orgs.length === 1) return finish(ctx, details, userId, orgs[0]!.id);
    details.result = { login: { accountId: userId } };
    await details.save(details.exp - Math.floor(Date.now() / 1000));
    ctx.type = 'html';
    ctx.body = orgPage(action(details, 'org'), csrfOf(details.uid), orgs);
  }

  const forms = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

  router.use(async (ctx, next) => {
    try {
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
      await next();
    } catch (err) {
      const known = err instanceof InteractionError;
      if (!known) ctx.state.log?.warn({ err }, 'sign-in interaction failed');
      ctx.status = known ? err.status : 400;
      ctx.type = 'html';
      ctx.body = messagePage('Sign-in could not continue', known ? err.message : `This sign-in has expired or is not valid. Start again from the application. (request ${ctx.state.requestId})`);
    }
  });

  router.get('/', async (ctx) => {
    const details = await load(ctx, false);
    if (details.prompt.name === 'login') {
      const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
      ctx.type = 'html';
      ctx.body = emailPage(action(details, 'email'), csrfOf(details.uid), hint);
      return;
    }
    // Signed in already; the provider wants consent (new scopes): first-party clients get it.
    const userId = details.session?.accountId;
    if (!userId) throw new InteractionError(400, 'This sign-in has expired. Start again from the application.');
    const grantOrg = details.grantId ? await deps.platform.findGrantOrg(details.grantId) : null;
    if (grantOrg) return finish(ctx, details, userId, grantOrg.org_id);
    return chooseOrg(ctx, details, userId);
  });

  router.post('/email', forms, async (ctx) => {
    const details = await load(ctx, true);
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const parsed = email.safeParse(body.email);
    ctx.type = 'html';
    if (!parsed.success) {
      ctx.status = 400;
      ctx.body = emailPage(action(details, 'email'), csrfOf(details.uid), String(body.email ?? ''), 'Enter a valid email address.');
      return;
    }
    ctx.body = passwordPage(action(details, 'password'), csrfOf(details.uid), parsed.data);
  });

  router.post('/password', forms, async (ctx) => {
    const details = await load(ctx, true);
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const typedEmail = String(body.email ?? '');
    if (await throttle.blocked(typedEmail, ctx.ip)) {
      ctx.status = 429;
      ctx.set('Retry-After', '900');
      ctx.type = 'html';
      ctx.body = passwordPage(action(details, 'password'), csrfOf(details.uid), typedEmail, 'Too many failed attempts. Wait a few minutes and try again.');
      return;
    }
    const given = { email: email.safeParse(body.email), password: password.safeParse(body.password) };
    const user = given.email.success ? await deps.db.withoutOrg((em) => new UsersRepository(em).findByEmail(given.email.data!)) : null;
    const ok = given.password.success && (await verifyPassword(given.password.data, user?.passwordHash ?? (await decoyHash)));
    if (!user || !user.passwordHash || !ok) {
      await throttle.failed(typedEmail, ctx.ip);
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = passwordPage(action(details, 'password'), csrfOf(details.uid), String(body.email ?? ''), 'That email and password do not match an account.');
      return;
    }
    await throttle.succeeded(typedEmail);
    await chooseOrg(ctx, details, user.id);
  });

  router.post('/org', forms, async (ctx) => {
    const details = await load(ctx, true);
    const userId = (details.result as { login?: { accountId?: string } } | undefined)?.login?.accountId;
    if (!userId) throw new InteractionError(400, 'Sign in first.');
    const chosen = String((ctx.request as { body?: Record<string, unknown> }).body?.organization ?? '');
    const org = (await deps.platform.orgsOfUser(userId)).find((o) => o.id === chosen);
    if (!org) throw new InteractionError(403, 'You are not a member of that organization.');
    await finish(ctx, details, userId, org.id);
  });

  return router;
}

class InteractionError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
