import Router from '@koa/router';
import { z } from 'zod';
import type { Mailer } from '../../modules/mail/mailer.ts';
import { PasswordResetService } from '../../modules/users/password-reset.service.ts';
import { formBody, forms, hostedPages, InteractionFlow, type InteractionDeps } from './flow.ts';
import { newPasswordPage, noticePage, resetRequestPage, resetSentPage } from './account-views.ts';
import { checkNewPassword } from './new-password.ts';
import { TokenForms, tokenPages } from './token-pages.ts';

const email = z.email().max(320);

/**
 * Password reset. Asked for inside a sign-in (/interaction/:uid/reset), so that the person goes
 * back to the same sign-in afterwards; the mailed link (/password-reset/:token) is outside any
 * interaction, possibly in another browser, so its forms are bound to the token instead.
 */
export function passwordResetRoutes(deps: InteractionDeps & { mailer: Mailer }): Router {
  const router = new Router();
  const flow = new InteractionFlow(deps);
  const resets = new PasswordResetService(deps);
  const linkForms = new TokenForms(deps.config.secretKey, 'password-reset');

  router.use(hostedPages(), tokenPages('Password reset'));

  router.get('/interaction/:uid/reset', async (ctx) => {
    const details = await flow.load(ctx, false);
    ctx.type = 'html';
    ctx.body = resetRequestPage(flow.action(details, 'reset'), flow.csrfOf(details), '', `/interaction/${details.uid}`);
  });

  router.post('/interaction/:uid/reset', forms, async (ctx) => {
    const details = await flow.load(ctx, true);
    const typed = formBody(ctx).email;
    const parsed = email.safeParse(typed);
    ctx.type = 'html';
    if (!parsed.success) {
      ctx.status = 400;
      ctx.body = resetRequestPage(flow.action(details, 'reset'), flow.csrfOf(details), String(typed ?? ''), `/interaction/${details.uid}`, 'Enter a valid email address.');
      return;
    }
    await resets.request(parsed.data);
    ctx.body = resetSentPage(`/interaction/${details.uid}`);
  });

  router.get('/password-reset/:token', async (ctx) => {
    const token = String(ctx.params.token);
    const { email: account } = await resets.inspect(token);
    ctx.type = 'html';
    ctx.body = newPasswordPage(`/password-reset/${token}`, linkForms.csrfOf(token), account);
  });

  router.post('/password-reset/:token', forms, async (ctx) => {
    const token = String(ctx.params.token);
    linkForms.check(ctx, token);
    const { email: account } = await resets.inspect(token);
    const given = checkNewPassword(formBody(ctx));
    ctx.type = 'html';
    if ('error' in given) {
      ctx.status = 400;
      ctx.body = newPasswordPage(`/password-reset/${token}`, linkForms.csrfOf(token), account, given.error);
      return;
    }
    await resets.complete(token, given.password);
    ctx.body = noticePage('Password changed', 'Your password has been changed, and you have been signed out everywhere. Return to the application and sign in with the new password.');
  });

  return router;
}
