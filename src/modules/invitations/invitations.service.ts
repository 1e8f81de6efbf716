import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Config } from '../../../config/config.schema.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import type { Mailer } from '../mail/mailer.ts';
import { MembersRepository } from '../members/members.repository.ts';
import { OrgsRepository } from '../orgs/orgs.repository.ts';
import { assertWithinCaller, grantableRole, resolveRole } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
import { normalizeEmail, UsersRepository } from '../users/users.repository.ts';
import type { Invitation, InvitationStatus } from './invitation.entity.ts';
import { invitationMail } from './invitation-mail.ts';
import { issueInvitationToken } from './invitation-token.ts';
import { InvitationsRepository } from './invitations.repository.ts';

/** What a client sees: a pending invitation past its expiry reads as expired. */
export function effectiveStatus(invitation: Invitation, now = Date.now()): InvitationStatus {
  return invitation.status === 'pending' && invitation.expiresAt.getTime() <= now ? 'expired' : invitation.status;
}

/** Never carries the token or its hash. */
export function invitationView(invitation: Invitation) {
  return {
    id: invitation.id,
    email: invitation.email,
    role: invitation.role,
    status: effectiveStatus(invitation),
    invitedBy: invitation.invitedBy ?? null,
    acceptedBy: invitation.acceptedBy ?? null,
    expiresAt: invitation.expiresAt,
    acceptedAt: invitation.acceptedAt ?? null,
    createdAt: invitation.createdAt,
    updatedAt: invitation.updatedAt,
  };
}
export type InvitationView = ReturnType<typeof invitationView>;
/** The accept link, shown in the create and resend responses only (and mailed). */
export type IssuedInvitationView = InvitationView & { acceptUrl: string };

export interface InvitationDeps {
  config: Pick<Config, 'publicUrl' | 'invitationTtlHours'>;
  mailer: Mailer;
  plans: PlanDeps;
}

function notFound(): NotFoundError {
  return new NotFoundError('invitation.not_found', 'No such invitation.');
}

export function roleGone(): ConflictError {
  return new ConflictError('invitation.role_unknown', 'The invitation\'s role no longer exists; cancel it and invite again.');
}

function stateOf(invitation: Invitation) {
  return { email: invitation.email, role: invitation.role, status: effectiveStatus(invitation), expiresAt: invitation.expiresAt };
}

export class InvitationsService {
  readonly #scope: OrgScope;
  readonly #deps: InvitationDeps;
  readonly #invitations: InvitationsRepository;

  constructor(scope: OrgScope, deps: InvitationDeps) {
    this.#scope = scope;
    this.#deps = deps;
    this.#invitations = new InvitationsRepository(scope.em);
  }

  async create(input: { email: string; role: string }): Promise<IssuedInvitationView> {
    this.#scope.authorize('members:invite');
    const email = normalizeEmail(input.email);
    if (input.role === 'owner') throw new ConflictError('member.owner_by_transfer', 'Ownership changes hands only through transfer-ownership.');
    // An invitation is a deferred grant: whoever issues, renews or withdraws it must be able to
    // grant its role (so an admin never deals in roles above their own).
    await grantableRole(this.#scope, input.role);
    await this.#checkNotMember(email);
    // The plan before any write: a pending invitation holds a seat (accepting it then adds none).
    const gate = new PlanGate(this.#scope, this.#deps.plans);
    await gate.requireSeats(1);
    await gate.requireRole(input.role);
    await this.#retireExpired(email);
    const issued = issueInvitationToken();
    const invitation = await this.#uniquePending(() => this.#invitations.create({
      orgId: this.#scope.orgId,
      email,
      role: input.role,
      tokenHash: issued.tokenHash,
      invitedBy: this.#scope.userId,
      expiresAt: this.#expiry(),
    }));
    await recordAudit(this.#scope, { type: 'member.invited', target: { type: 'invitation', id: invitation.id }, after: stateOf(invitation) });
    return this.#send(invitation, issued.token);
  }

  async list(query: PageQuery & { status?: InvitationStatus }): Promise<Page<InvitationView>> {
    this.#scope.authorize('members:invite');
    const rows = await this.#invitations.listPage(query.limit, query.cursor, { status: query.status });
    return toPage(rows, query.limit, (r) => r.id, invitationView);
  }

  /** Cancels a pending (or lapsed) invitation; cancelling a cancelled one changes nothing. */
  async cancel(id: string): Promise<InvitationView> {
    this.#scope.authorize('members:invite');
    const invitation = await this.#load(id);
    if (invitation.status === 'cancelled') return invitationView(invitation);
    this.#checkPending(invitation);
    // A custom role deleted since can still be withdrawn by anyone who may invite.
    const role = await resolveRole(this.#scope, invitation.role);
    if (role) assertWithinCaller(this.#scope, role.permissions);
    const before = stateOf(invitation);
    invitation.status = 'cancelled';
    await this.#invitations.save();
    await recordAudit(this.#scope, { type: 'invitation.cancelled', target: { type: 'invitation', id }, before, after: stateOf(invitation) });
    return invitationView(invitation);
  }

  /** A new token and expiry, mailed again; the old link stops working. */
  async resend(id: string): Promise<IssuedInvitationView> {
    this.#scope.authorize('members:invite');
    const invitation = await this.#load(id);
    this.#checkPending(invitation);
    const role = await resolveRole(this.#scope, invitation.role);
    if (!role) throw roleGone();
    assertWithinCaller(this.#scope, role.permissions);
    await this.#checkNotMember(invitation.email);
    // A lapsed invitation made pending again takes a seat again.
    const gate = new PlanGate(this.#scope, this.#deps.plans);
    await gate.requireRole(invitation.role);
    await gate.requireSeats(effectiveStatus(invitation) === 'pending' ? 0 : 1);
    const before = stateOf(invitation);
    const issued = issueInvitationToken();
    invitation.tokenHash = issued.tokenHash;
    invitation.expiresAt = this.#expiry();
    invitation.status = 'pending';
    await this.#uniquePending(() => this.#invitations.save());
    await recordAudit(this.#scope, { type: 'invitation.resent', target: { type: 'invitation', id }, before, after: stateOf(invitation) });
    return this.#send(invitation, issued.token);
  }

  /** Locked: a cancel or resend racing an accept sees the accepted row, not a stale pending one. */
  async #load(id: string): Promise<Invitation> {
    const invitation = await this.#invitations.findForUpdate(id);
    if (!invitation) throw notFound();
    return invitation;
  }

  /** Pending or expired may be cancelled or resent; accepted and cancelled ones are final. */
  #checkPending(invitation: Invitation): void {
    if (invitation.status === 'accepted' || invitation.status === 'cancelled') {
      throw new ConflictError('invitation.not_pending', `The invitation is ${invitation.status}.`);
    }
  }

  async #checkNotMember(email: string): Promise<void> {
    const user = await new UsersRepository(this.#scope.em).findByEmail(email);
    if (user && (await new MembersRepository(this.#scope.em).findByUser(user.id))) {
      throw new ConflictError('member.exists', 'That person is already a member of this organization.');
    }
  }

  /** One pending invitation per email: a live one is a conflict, a lapsed one is retired first. */
  async #retireExpired(email: string): Promise<void> {
    const pending = await this.#invitations.findPendingByEmail(email);
    if (!pending) return;
    if (effectiveStatus(pending) === 'pending') {
      throw new ConflictError('invitation.exists', 'That email already has a pending invitation; resend or cancel it.');
    }
    const before = { ...stateOf(pending), status: 'pending' };
    pending.status = 'expired';
    await this.#invitations.save();
    await recordAudit(this.#scope, { type: 'invitation.expired', target: { type: 'invitation', id: pending.id }, before, after: stateOf(pending) });
  }

  /** The partial unique index decides races between two invites of one email. */
  async #uniquePending<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        throw new ConflictError('invitation.exists', 'That email already has a pending invitation; resend or cancel it.');
      }
      throw err;
    }
  }

  #expiry(): Date {
    return new Date(Date.now() + this.#deps.config.invitationTtlHours * 3_600_000);
  }

  async #send(invitation: Invitation, token: string): Promise<IssuedInvitationView> {
    const acceptUrl = `${this.#deps.config.publicUrl}/invitations/${token}`;
    const org = await new OrgsRepository(this.#scope.em).find(this.#scope.orgId);
    if (!org) throw new NotFoundError('org.not_found', 'Organization not found.');
    await this.#deps.mailer.enqueue(this.#scope.em, invitationMail({
      to: invitation.email, orgName: org.name, role: invitation.role, acceptUrl, expiresAt: invitation.expiresAt,
    }));
    return { ...invitationView(invitation), acceptUrl };
  }
}
