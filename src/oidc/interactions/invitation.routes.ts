import Router from '@koa/router';
import { z } from 'zod';
import { UnauthorizedError } from '../../errors.ts';
import { requestMeta } from '../../http/org-context.ts';
import type { PlanDeps } from '../../modules/billing/plan-gate.ts';
import { acceptInvitation } from '../../modules/invitations/invitation-accept.service.ts';
import { previewInvitation, type InvitationPreview } from '../../modules/invitations/invitation-preview.service.ts';
import { invitationNewAccountPage, invitationPasswordPage, noticePage } from './account-views.ts';
import { formBody, forms, hostedPages, type InteractionDeps } from './flow.ts';
import { checkNewPassword } from './new-password.ts';
import { TokenForms, tokenPages } from './token-pages.ts';

const name = z.string().trim().max(200);
const password = z.string().min(1).max(1024);

/**
 * The invitation link mailed to an invitee (`${PUBLIC_URL}/invitations/<token>`): shows what the
 * invitation is for, then creates the account (no account yet) or takes the existing account's
 * password, through the accept service. There is no sign-in to resume: the page ends with a
 * link to the application.
 */
export function invitationRoutes(deps: Pick<InteractionDeps, 'config' | 'db' | 'platform'> & PlanDeps): Router {
  const router = new Router({ prefix: '/invitations/:token' });
  const linkForms = new TokenForms(deps.config.secretKey, 'invitation');
  const page = (token: string, inv: InvitationPreview, typedName: string, error?: string) => {
    const action = `/invitations/${token}`;
    return inv.account === 'none'
      ? invitationNewAccountPage(action, linkForms.csrfOf(token), inv, typedName, error)
      : invitationPasswordPage(action, linkForms.csrfOf(token), inv, error);
  };

  router.use(hostedPages(), tokenPages('Invitation'));

  router.get('/', async (ctx) => {
    const token = String(ctx.params.token);
    const inv = await previewInvitation(deps, token);
    ctx.type = 'html';
    ctx.body = page(token, inv, '');
  });

  router.post('/', forms, async (ctx) => {
    const token = String(ctx.params.token);
    linkForms.check(ctx, token);
    const inv = await previewInvitation(deps, token);
    const body = formBody(ctx);
    const typedName = String(body.name ?? '');
    ctx.type = 'html';
    const given = inv.account === 'none' ? newAccount(body) : existingAccount(body);
    if ('error' in given) {
      ctx.status = 400;
      ctx.body = page(token, inv, typedName, given.error);
      return;
    }
    try {
      await acceptInvitation(deps, token, given, requestMeta(ctx));
    } catch (err) {
      // A wrong password for the existing account (counted by the service): try again here.
      if (!(err instanceof UnauthorizedError)) throw err;
      ctx.status = 401;
      ctx.body = page(token, inv, typedName, 'That password does not match the account of this email.');
      return;
    }
    ctx.body = noticePage('Invitation accepted', `You have joined ${inv.orgName}.`, { href: deps.config.publicUrl, text: 'Continue to the application' });
  });

  return router;
}

function newAccount(body: Record<string, unknown>): { name?: string; password: string } | { error: string } {
  const named = name.safeParse(body.name ?? '');
  if (!named.success) return { error: 'Enter a name of at most 200 characters.' };
  const chosen = checkNewPassword(body);
  if ('error' in chosen) return chosen;
  return { password: chosen.password, ...(named.data ? { name: named.data } : {}) };
}

function existingAccount(body: Record<string, unknown>): { password: string } | { error: string } {
  const given = password.safeParse(body.password);
  return given.success ? { password: given.data } : { error: 'Enter the password of your account.' };
}
