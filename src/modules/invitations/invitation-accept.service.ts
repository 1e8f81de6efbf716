import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Database } from '../../db/database.ts';
import { ConflictError, GoneError, NotFoundError, UnauthorizedError, ValidationError } from '../../errors.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
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

function notFound(): NotFoundError {
  return new NotFoundError('invitation.not_found', 'No such invitation.');
}

/**
 * Accepts an invitation by its one-time token. The token names no org, so the platform look-up
 * finds which; everything after runs in that org's transaction with the system as actor (the
 * invitee holds no credential yet: the token is the proof).
 */
export async function acceptInvitation(
  deps: { db: Database; platform: PlatformRepository },
  token: string,
  input: AcceptInput,
  meta: RequestMeta,
): Promise<Accepted> {
  const tokenHash = isInvitationToken(token) ? hashInvitationToken(token) : null;
  const found = tokenHash ? await deps.platform.findInvitationByTokenHash(tokenHash) : null;
  if (!tokenHash || !found) throw notFound();
  return deps.db.inOrg(found.org_id, (em) =>
    new InvitationAcceptance(new OrgScope(found.org_id, em, null, meta)).accept(found.id, tokenHash, input));
}

export class InvitationAcceptance {
  readonly #scope: OrgScope;
  readonly #invitations: InvitationsRepository;

  constructor(scope: OrgScope) {
    this.#scope = scope;
    this.#invitations = new InvitationsRepository(scope.em);
  }

  async accept(invitationId: string, tokenHash: string, input: AcceptInput): Promise<Accepted> {
    const invitation = await this.#invitations.findForUpdate(invitationId);
    // A resend between the look-up and the lock replaced the token: the old one is unknown now.
    if (!invitation || invitation.tokenHash !== tokenHash) throw notFound();
    checkAcceptable(invitation);
    if (!(await resolveRole(this.#scope, invitation.role))) throw roleGone();
    const { user, created } = await this.#user(invitation.email, input);
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

  /**
   * The invitee's account. A new one needs a password. An existing one with a password must
   * prove it: the token shows control of the mailbox, not of the account. An existing account
   * without a password (SSO only) keeps its sign-in methods: an invite link never sets one.
   */
  async #user(email: string, input: AcceptInput): Promise<{ user: User; created: boolean }> {
    const users = new UsersRepository(this.#scope.em);
    const existing = await users.findByEmail(email);
    if (existing?.passwordHash) {
      if (!input.password || !(await verifyPassword(input.password, existing.passwordHash))) {
        throw new UnauthorizedError('The password does not match the account of this email.');
      }
      return { user: existing, created: false };
    }
    if (existing) {
      if (input.password) {
        throw new ValidationError([{ field: 'body.password', message: 'this account has no password; accept without one' }]);
      }
      return { user: existing, created: false };
    }
    if (!input.password || input.password.length < minPasswordLength) {
      throw new ValidationError([{ field: 'body.password', message: `a password of at least ${minPasswordLength} characters is required to create your account` }]);
    }
    const passwordHash = await hashPassword(input.password);
    try {
      return { user: await users.create({ email, name: input.name ?? null, passwordHash }), created: true };
    } catch (err) {
      // Another sign-up of the same email committed first; accepting again will sign in to it.
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError('user.exists', 'An account with this email was just created; try again.');
      throw err;
    }
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
