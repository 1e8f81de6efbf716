import Router from '@koa/router';
import type { Context } from 'koa';
import type { SecretBox } from '../../crypto/secret-box.ts';
import { ConflictError } from '../../errors.ts';
import { requestMeta } from '../../http/org-context.ts';
import { OrgScope } from '../../modules/scope.ts';
import { CodeRefused, mfaDeps, MfaService, TooManyCodeAttempts } from '../../modules/users/mfa.service.ts';
import { formBody, forms, hostedPages, InteractionError, InteractionFlow, type Details, type InteractionDeps } from './flow.ts';
import { recoveryCodesPage, totpEnrolPage, totpPage } from './mfa-views.ts';
import { holdForSecondFactor, pendingSecondFactor, type PendingSecondFactor, type SecondFactorStep } from './second-factor.ts';

export interface MfaInteractionDeps extends InteractionDeps {
  secrets: SecretBox;
}

/** The sign-in's state must be waiting at this very step; anything else cannot go on here. */
function pendingAt(details: Details, step: SecondFactorStep): PendingSecondFactor {
  const pending = pendingSecondFactor(details);
  if (pending?.step !== step) throw new InteractionError(400, 'This step is not part of your sign-in now. Start again from the application.');
  return pending;
}

/** A code check whose throttling, like its refusal, is shown on the page rather than thrown. */
async function attempt<T>(run: () => Promise<T | CodeRefused>): Promise<T | CodeRefused | TooManyCodeAttempts> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof TooManyCodeAttempts) return err;
    throw err;
  }
}

function codeOf(ctx: Context): string {
  return String(formBody(ctx).code ?? '').slice(0, 64);
}

/**
 * The second-factor steps of the hosted sign-in: the code after the password (a TOTP code or a
 * recovery code), and enrolment when an org requires a factor of its owners and admins and the
 * person has none. Both pass into the org step only with the factor shown (`amr` pwd + otp).
 */
export function mfaInteractionRoutes(deps: MfaInteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const flow = new InteractionFlow(deps);
  const mfa = mfaDeps(deps.config, deps.secrets);

  router.use(hostedPages());

  router.get('/totp', async (ctx) => {
    const details = await flow.load(ctx, false);
    pendingAt(details, 'totp');
    ctx.type = 'html';
    ctx.body = totpPage(flow.action(details, 'totp'), flow.csrfOf(details), { recovery: ctx.query.recovery === '1' });
  });

  router.post('/totp', forms, async (ctx) => {
    const details = await flow.load(ctx, true);
    const pending = pendingAt(details, 'totp');
    const outcome = await attempt(() => deps.db.withoutOrg((em) => new MfaService(em, mfa).verify(pending.userId, codeOf(ctx))));
    if (outcome instanceof CodeRefused || outcome instanceof TooManyCodeAttempts) {
      if (outcome instanceof TooManyCodeAttempts) ctx.set('Retry-After', '900');
      ctx.status = outcome instanceof TooManyCodeAttempts ? 429 : 401;
      ctx.type = 'html';
      ctx.body = totpPage(flow.action(details, 'totp'), flow.csrfOf(details), { recovery: formBody(ctx).recovery === '1', error: outcome.detail });
      return;
    }
    await flow.remember(details, pending.userId, ['pwd', 'otp']);
    if (pending.orgId) return flow.finish(ctx, details, pending.userId, pending.orgId);
    await flow.chooseOrg(ctx, details, pending.userId);
  });

  // A fresh secret each time the page is shown: one shown earlier (or started elsewhere) is
  // never the one a person enrols here.
  router.get('/totp-enrol', async (ctx) => {
    const details = await flow.load(ctx, false);
    const pending = pendingAt(details, 'totp-enrol');
    const enrolment = await deps.db.withoutOrg((em) => new MfaService(em, mfa).startEnrolment(pending.userId)).catch((err: unknown) => {
      if (err instanceof ConflictError) return null;
      throw err;
    });
    // Enrolled meanwhile (in another tab): then the code is what this sign-in needs.
    if (!enrolment) return holdForSecondFactor(ctx, details, { ...pending, step: 'totp' });
    ctx.type = 'html';
    ctx.body = totpEnrolPage(flow.action(details, 'totp-enrol'), flow.csrfOf(details), enrolment);
  });

  router.post('/totp-enrol', forms, async (ctx) => {
    const details = await flow.load(ctx, true);
    const { userId, orgId } = pendingAt(details, 'totp-enrol');
    if (!orgId) throw new InteractionError(400, 'This sign-in has expired. Start again from the application.');
    // Enrolled in the org whose requirement asked for it: audited there.
    const outcome = await attempt(() => deps.db.inOrg(orgId, (em) =>
      new MfaService(em, mfa, new OrgScope(orgId, em, null, requestMeta(ctx))).confirmEnrolment(userId, codeOf(ctx))));
    if (outcome instanceof CodeRefused || outcome instanceof TooManyCodeAttempts) {
      const enrolment = await deps.db.withoutOrg((em) => new MfaService(em, mfa).enrolmentInProgress(userId));
      if (!enrolment) throw new InteractionError(400, 'This sign-in has expired. Start again from the application.');
      if (outcome instanceof TooManyCodeAttempts) ctx.set('Retry-After', '900');
      ctx.status = outcome instanceof TooManyCodeAttempts ? 429 : 400;
      ctx.type = 'html';
      ctx.body = totpEnrolPage(flow.action(details, 'totp-enrol'), flow.csrfOf(details), enrolment, outcome.detail);
      return;
    }
    await flow.remember(details, userId, ['pwd', 'otp']);
    ctx.type = 'html';
    ctx.body = recoveryCodesPage(flow.action(details, 'org'), flow.csrfOf(details), orgId, outcome);
  });

  return router;
}
