import { UniqueConstraintViolationException } from '@mikro-orm/core';
import Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { requestMeta } from '../../http/org-context.ts';
import { signUp, type SignUp } from '../../modules/users/signup.service.ts';
import { signUpPage } from './account-views.ts';
import { formBody, forms, hostedPages, InteractionFlow, type Details, type InteractionDeps } from './flow.ts';
import { checkNewPassword } from './new-password.ts';
import { SignUpThrottle } from './sign-up-throttle.ts';

const email = z.email().max(320);
const name = z.string().trim().max(200);

/** One answer for a taken email, whichever way it was found taken. */
const notCreated = 'We could not create that account. If you already have one, sign in or reset your password.';

function parseSignUp(body: Record<string, unknown>): SignUp | { error: string } {
  const address = email.safeParse(body.email);
  if (!address.success) return { error: 'Enter a valid email address.' };
  const named = name.safeParse(body.name ?? '');
  if (!named.success) return { error: 'Enter a name of at most 200 characters.' };
  const password = checkNewPassword(body);
  if ('error' in password) return password;
  return { email: address.data, name: named.data || null, password: password.password };
}

function isTaken(err: unknown): boolean {
  // Two sign-ups of one email at once: the unique index refuses the second.
  return (err instanceof AppError && err.code === 'user.exists') || err instanceof UniqueConstraintViolationException;
}

/**
 * Self sign-up inside a sign-in (GATEHOUSE_SIGN_UP): the new account then continues that sign-in
 * (into its personal org, when those are on). Off, the routes do not exist.
 */
export function signUpRoutes(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  if (!deps.config.signUp) return router;
  const flow = new InteractionFlow(deps);
  const throttle = new SignUpThrottle(deps.db);
  const page = (details: Details, values: { email: string; name: string }, error?: string) =>
    signUpPage(flow.action(details, 'signup'), flow.csrfOf(details), values, `/interaction/${details.uid}`, error);

  router.use(hostedPages());

  router.get('/signup', async (ctx) => {
    const details = await flow.load(ctx, false);
    ctx.type = 'html';
    ctx.body = page(details, { email: '', name: '' });
  });

  router.post('/signup', forms, async (ctx) => {
    const details = await flow.load(ctx, true);
    const body = formBody(ctx);
    const typed = { email: String(body.email ?? ''), name: String(body.name ?? '') };
    const given = parseSignUp(body);
    ctx.type = 'html';
    if ('error' in given) {
      ctx.status = 400;
      ctx.body = page(details, typed, given.error);
      return;
    }
    if (await throttle.blocked(ctx.ip)) {
      ctx.status = 429;
      ctx.set('Retry-After', '3600');
      ctx.body = page(details, typed, 'Too many accounts were asked for from your network. Try again later.');
      return;
    }
    await throttle.attempted(ctx.ip);
    let userId: string;
    try {
      ({ userId } = await signUp(deps.db, deps.config, given, requestMeta(ctx)));
    } catch (err) {
      if (!isTaken(err)) throw err;
      ctx.status = 409;
      ctx.body = page(details, typed, notCreated);
      return;
    }
    await flow.chooseOrg(ctx, details, userId);
  });

  return router;
}
