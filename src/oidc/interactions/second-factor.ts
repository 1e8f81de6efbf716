import type { Context } from 'koa';
import type { Database } from '../../db/database.ts';
import { MfaRepository } from '../../modules/users/mfa.repository.ts';
import type { Details } from './flow.ts';

// The second-factor state of a hosted sign-in, kept in the interaction between steps.

/** The step of the sign-in that asks for it: a code, or enrolment (the org requires a factor). */
export type SecondFactorStep = 'totp' | 'totp-enrol';

export interface PendingSecondFactor {
  userId: string;
  step: SecondFactorStep;
  /** The org the sign-in was finishing in when its requirement asked for the factor. */
  orgId?: string;
}

// Roles an org's require_mfa applies to (the built-in ones that run the org).
const strictRoles = new Set(['owner', 'admin']);

/**
 * The person passed their password but not yet the second factor. This is kept under a key of
 * our own, never in `result.login`: oidc-provider's resume endpoint signs in whoever
 * `result.login` names, so naming the person there would let a browser skip the code step by
 * going to the resume URL itself.
 */
export function pendingSecondFactor(details: Details): PendingSecondFactor | undefined {
  return (details.result as { secondFactor?: PendingSecondFactor } | undefined)?.secondFactor;
}

/** Holds the sign-in at the second-factor step (replacing any earlier result) and goes there. */
export async function holdForSecondFactor(ctx: Context, details: Details, pending: PendingSecondFactor): Promise<void> {
  details.result = { secondFactor: pending };
  await details.save(details.exp - Math.floor(Date.now() / 1000));
  ctx.status = 303;
  ctx.redirect(`/interaction/${details.uid}/${pending.step}`);
}

/** Whether the user has a confirmed TOTP, so that their sign-in asks for a code. */
export function hasSecondFactor(db: Database, userId: string): Promise<boolean> {
  return db.withoutOrg((em) => new MfaRepository(em).isEnrolled(userId));
}

/**
 * The step a sign-in that has not used a second factor still needs before it may finish in
 * `orgId`: a code when the user has TOTP (whichever way they came in), enrolment when the org
 * requires a second factor of its owners and admins and this one has none, else nothing.
 */
export function secondFactorStepFor(db: Database, userId: string, orgId: string): Promise<SecondFactorStep | null> {
  return db.inOrg(orgId, async (em) => {
    const repo = new MfaRepository(em);
    if (await repo.isEnrolled(userId)) return 'totp';
    const rule = await repo.orgRule(orgId, userId);
    return rule?.requireMfa && strictRoles.has(rule.role) ? 'totp-enrol' : null;
  });
}
