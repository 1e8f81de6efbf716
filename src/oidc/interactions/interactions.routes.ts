import Router from '@koa/router';
import { z } from 'zod';
import { hashPassword, verifyPassword } from '../../modules/users/password.ts';
import { normalizeEmail, UsersRepository } from '../../modules/users/users.repository.ts';
import { formBody, forms, hostedPages, InteractionError, InteractionFlow, type Details, type InteractionDeps } from './flow.ts';
import { hasSecondFactor, holdForSecondFactor } from './second-factor.ts';
import type { EnterpriseSsoHook } from './enterprise-sso.ts';
import { SignInThrottle } from './sign-in-throttle.ts';
import { continuePage, emailPage, passwordPage } from './views.ts';
import { socialLinks } from '../../federation/platform-sign-in.ts';

const email = z.email().max(320);
const password = z.string().min(1).max(1024);

/**
 * The hosted sign-in: email, then password, then (for people in several orgs) the org. Pages
 * never say whether an email has an account. An email whose domain has enterprise SSO (the hook)
 * skips the password: typed at the email step, or given as `login_hint`.
 */
export function interactionRoutes(deps: InteractionDeps, sso: EnterpriseSsoHook): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const flow = new InteractionFlow(deps);
  // Checked against when the email has no account, so a miss costs what a wrong password does.
  const decoyHash = hashPassword('decoy password that matches nothing');
  const throttle = new SignInThrottle(deps.db);

  // "Create an account" (signup.routes.ts) only when sign-up is on.
  const signUpLink = (details: Details) => ({ ...(deps.config.signUp ? { signUp: flow.action(details, 'signup') } : {}), social: socialLinks(deps.config, details.uid) });

  router.use(hostedPages());

  router.get('/', async (ctx) => {
    const details = await flow.load(ctx, false);
    if (details.prompt.name === 'login') {
      // An IdP-initiated SAML login, verified at the ACS, waits for the product's request here.
      if (await sso.pickUpIdpInitiated(ctx, details)) return;
      const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : '';
      const hinted = email.safeParse(hint);
      const to = hinted.success ? await sso.redirectFor(normalizeEmail(hinted.data), details) : null;
      if (to) return ctx.redirect(to);
      ctx.type = 'html';
      ctx.body = emailPage(flow.action(details, 'email'), flow.csrfOf(details), hint, undefined, signUpLink(details));
      return;
    }
    // Signed in already; the provider wants consent (new scopes): first-party clients get it.
    const userId = details.session?.accountId;
    if (!userId) throw new InteractionError(400, 'This sign-in has expired. Start again from the application.');
    const grantOrg = details.grantId ? await deps.platform.findGrantOrg(details.grantId) : null;
    const viaSso = grantOrg?.sso_connection_id && grantOrg.sso_org_id ? { connectionId: grantOrg.sso_connection_id, orgId: grantOrg.sso_org_id } : undefined;
    if (grantOrg) return flow.finish(ctx, details, userId, grantOrg.org_id, viaSso);
    return flow.chooseOrg(ctx, details, userId);
  });

  router.post('/email', forms, async (ctx) => {
    const details = await flow.load(ctx, true);
    const body = formBody(ctx);
    const parsed = email.safeParse(body.email);
    ctx.type = 'html';
    if (!parsed.success) {
      ctx.status = 400;
      ctx.body = emailPage(flow.action(details, 'email'), flow.csrfOf(details), String(body.email ?? ''), 'Enter a valid email address.', signUpLink(details));
      return;
    }
    const to = await sso.redirectFor(normalizeEmail(parsed.data), details);
    if (to) {
      ctx.body = continuePage(to);
      return;
    }
    ctx.body = passwordPage(flow.action(details, 'password'), flow.csrfOf(details), parsed.data);
  });

  router.post('/password', forms, async (ctx) => {
    const details = await flow.load(ctx, true);
    const body = formBody(ctx);
    const typedEmail = String(body.email ?? '');
    if (await throttle.blocked(typedEmail, ctx.ip)) {
      ctx.status = 429;
      ctx.set('Retry-After', '900');
      ctx.type = 'html';
      ctx.body = passwordPage(flow.action(details, 'password'), flow.csrfOf(details), typedEmail, 'Too many failed attempts. Wait a few minutes and try again.');
      return;
    }
    const given = { email: email.safeParse(body.email), password: password.safeParse(body.password) };
    const user = given.email.success ? await deps.db.withoutOrg((em) => new UsersRepository(em).findByEmail(given.email.data!)) : null;
    const ok = given.password.success && (await verifyPassword(given.password.data, user?.passwordHash ?? (await decoyHash)));
    if (!user || !user.passwordHash || !ok) {
      await throttle.failed(typedEmail, ctx.ip);
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = passwordPage(flow.action(details, 'password'), flow.csrfOf(details), String(body.email ?? ''), 'That email and password do not match an account.');
      return;
    }
    await throttle.succeeded(typedEmail);
    // With two-step verification on, the password alone signs no one in: the code step comes next.
    if (await hasSecondFactor(deps.db, user.id)) return holdForSecondFactor(ctx, details, { userId: user.id, step: 'totp' });
    await flow.chooseOrg(ctx, details, user.id);
  });

  router.post('/org', forms, async (ctx) => {
    const details = await flow.load(ctx, true);
    const userId = flow.signedIn(details);
    if (!userId) throw new InteractionError(400, 'Sign in first.');
    const chosen = String(formBody(ctx).organization ?? '');
    const org = (await deps.platform.orgsOfUser(userId)).find((o) => o.id === chosen);
    if (!org) throw new InteractionError(403, 'You are not a member of that organization.');
    await flow.finish(ctx, details, userId, org.id);
  });

  return router;
}
