import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Database } from '../../db/database.ts';
import { ConflictError, ForbiddenError, GoneError, NotFoundError, UnauthorizedError, ValidationError } from '../../errors.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { assertSeatsAvailable } from '../billing/entitlements.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { PlanLocksRepository } from '../billing/plan-locks.repository.ts';
import { MembersRepository } from '../members/members.repository.ts';
import type { PlatformRepository } from '../platform/platform.repository.ts';
import { resolveRole } from '../roles/role-catalog.ts';
import { OrgScope, type RequestMeta } from '../scope.ts';
import { hashPassword, verifyPassword } from '../users/password.ts';
import type { User } from '../users/user.entity.ts';
import { UsersRepository } from '../users/users.repository.ts';
import type { Invitation } from './invitation.entity.ts';
import { hashInvitationToken, isInvitationToken } from './invitation-token.ts';
import { InvitationsRepository } from './invitations.repository.ts';
import { effectiveStatus, roleGone } from './invitations.service.ts';

export interface AcceptInput {
  password?: string;
  name?: string;
}

export interface Accepted {
  orgId: string;
  userId: string;
  role: string;
}

export const minPasswordLength = 12;
/** Wrong passwords an invitation tolerates before it is retired (cancelled). */
export const maxFailedAttempts = 5;

function notFound(): NotFoundError {
  return new NotFoundError('invitation.not_found', 'No such invitation.');
}

/** A wrong password for the invitee's existing account: counted on the invitation, then thrown. */
class PasswordMismatch extends UnauthorizedError {
  constructor() {
    super('The password does not match the account of this email.');
  }
}

/**
 * Accepts an invitation by its one-time token. The token names no org, so the platform look-up
 * finds which; everything after runs in that org's transaction with the system as actor (the
 * invitee holds no credential yet: the token is the proof).
 */
export async function acceptInvitation(
  deps: { db: Database; platform: PlatformRepository } & PlanDeps,
  token: string,
  input: AcceptInput,
  meta: RequestMeta,
): Promise<Accepted> {
  const tokenHash = isInvitationToken(token) ? hashInvitationToken(token) : null;
  const found = tokenHash ? await deps.platform.findInvitationByTokenHash(tokenHash) : null;
  if (!tokenHash || !found) throw notFound();
  // A wrong password must be counted although the request fails. It is counted by the transaction
  // that checked it, under the invitation's row lock, which commits before the 401 is thrown.
  // Counting in a second transaction after a rollback would leave a gap: guesses queued on the
  // lock would each be checked against the old count, so concurrent requests could try far more
  // than the limit before any count landed.
  const outcome = await deps.db.inOrg(found.org_id, (em) =>
    new InvitationAcceptance(new OrgScope(found.org_id, em, null, meta), deps).accept(found.id, tokenHash, input));
  if (outcome instanceof PasswordMismatch) throw outcome;
  return outcome;
}

export class InvitationAcceptance {
  readonly #scope: OrgScope;
  readonly #invitations: InvitationsRepository;
  readonly #plan: PlanDeps;

  constructor(scope: OrgScope, plan: PlanDeps) {
    this.#scope = scope;
    this.#invitations = new InvitationsRepository(scope.em);
    this.#plan = plan;
  }

  /** Joins the invitee, or (a wrong password) returns the error to throw once the count commits. */
  async accept(invitationId: string, tokenHash: string, input: AcceptInput): Promise<Accepted | PasswordMismatch> {
    const invitation = await this.#invitations.findForUpdate(invitationId);
    // A resend between the look-up and the lock replaced the token: the old one is unknown now.
    if (!invitation || invitation.tokenHash !== tokenHash) throw notFound();
    checkAcceptable(invitation);
    if (!(await resolveRole(this.#scope, invitation.role))) throw roleGone();
    await this.#checkPlan(invitation);
    const existing = await new UsersRepository(this.#scope.em).findByEmail(invitation.email);
    // Nothing is written before this check, so committing a wrong password commits only its count.
    if (existing && !(await this.#proves(existing, input))) return this.#countFailedAttempt(invitation);
    // checked after the password, so the answer says nothing about the account to a guesser
    if (existing?.disabledAt) throw new ForbiddenError('user.disabled', 'This account has been disabled. Contact your administrator.');
    const user = existing ?? (await this.#createUser(invitation.email, input));
    return this.#join(invitation, user, !existing);
  }

  /**
   * The plan may have shrunk since the invitation was made (a downgrade): its role must still be
   * one the plan offers, and its seat must still fit. The pending invitation already counts as a
   * seat, so it fits when members plus pending invitations, this one included, are within the
   * limit (adding 0); checked under the seat lock invitations and SCIM creates take.
   */
  async #checkPlan(invitation: Invitation): Promise<void> {
    const gate = new PlanGate(this.#scope, this.#plan);
    await gate.requireRole(invitation.role);
    const entitlements = await gate.entitlements();
    if (entitlements.plan.seats === null) return;
    await new PlanLocksRepository(this.#scope.em).lock('seats', this.#scope.orgId);
    await assertSeatsAvailable(this.#scope, entitlements, 0);
  }

  /**
   * An existing account must be proven: the token shows control of the mailbox at best (the
   * inviter saw the link too), not of the account. One with a password proves it with the
   * password; one without (SSO only) cannot prove anything here, and an invite link never sets a
   * password, so it must accept by signing in.
   */
  async #proves(user: User, input: AcceptInput): Promise<boolean> {
    if (!user.passwordHash) {
      throw new ConflictError('invitation.sign_in_required',
        'This email belongs to an account that signs in without a password; accept the invitation by signing in to it (hosted sign-in is not available yet).');
    }
    // No password at all is not a guess: refused without counting.
    if (!input.password) throw new UnauthorizedError('This email already has an account: send its password to accept.');
    return verifyPassword(input.password, user.passwordHash);
  }

  /** The brake on guessing an account's password through its invitation: retired at the limit. */
  async #countFailedAttempt(invitation: Invitation): Promise<PasswordMismatch> {
    const before = { status: invitation.status, failedAttempts: invitation.failedAttempts };
    invitation.failedAttempts += 1;
    const locked = invitation.failedAttempts >= maxFailedAttempts;
    if (locked) invitation.status = 'cancelled';
    await this.#invitations.save();
    if (locked) {
      await recordAudit(this.#scope, {
        type: 'invitation.locked',
        target: { type: 'invitation', id: invitation.id },
        before,
        after: { status: invitation.status, failedAttempts: invitation.failedAttempts },
      });
    }
    return new PasswordMismatch();
  }

  async #createUser(email: string, input: AcceptInput): Promise<User> {
    if (!input.password || input.password.length < minPasswordLength) {
      throw new ValidationError([{ field: 'body.password', message: `a password of at least ${minPasswordLength} characters is required to create your account` }]);
    }
    const passwordHash = await hashPassword(input.password);
    try {
      return await new UsersRepository(this.#scope.em).create({ email, name: input.name ?? null, passwordHash });
    } catch (err) {
      // Another sign-up of the same email committed first; accepting again will sign in to it.
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError('user.exists', 'An account with this email was just created; try again.');
      throw err;
    }
  }

  async #join(invitation: Invitation, user: User, created: boolean): Promise<Accepted> {
    const members = new MembersRepository(this.#scope.em);
    if (await members.findByUser(user.id)) {
      throw new ConflictError('member.exists', 'You are already a member of this organization.');
    }
    const before = { status: invitation.status };
    await members.create({ orgId: this.#scope.orgId, userId: user.id, role: invitation.role, source: 'invite' });
    invitation.status = 'accepted';
    invitation.acceptedBy = user.id;
    invitation.acceptedAt = new Date();
    await this.#invitations.save();
    await recordAudit(this.#scope, {
      type: 'member.joined',
      target: { type: 'user', id: user.id },
      after: { role: invitation.role, source: 'invite', invitationId: invitation.id, newUser: created },
    });
    await recordAudit(this.#scope, {
      type: 'invitation.accepted',
      target: { type: 'invitation', id: invitation.id },
      before,
      after: { status: invitation.status, acceptedBy: user.id, acceptedAt: invitation.acceptedAt },
    });
    return { orgId: this.#scope.orgId, userId: user.id, role: invitation.role };
  }
}

function checkAcceptable(invitation: Invitation): void {
  switch (effectiveStatus(invitation)) {
    case 'accepted':
      throw new ConflictError('invitation.already_accepted', 'This invitation has already been accepted.');
    case 'cancelled':
      throw new GoneError('invitation.cancelled', 'This invitation was cancelled.');
    case 'expired':
      throw new GoneError('invitation.expired', 'This invitation has expired; ask for a new one.');
    case 'pending':
      return;
  }
}
