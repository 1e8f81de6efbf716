import { ConflictError, ForbiddenError, NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { revokeKeysOf } from '../api-keys/api-keys.service.ts';
import { leaveAllTeams } from '../teams/team-members.service.ts';
import { revokeOidcGrantsInOrg } from '../../oidc/grant-revocation.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { assertMemberWithinCaller, grantableRole } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
import type { Membership } from './membership.entity.ts';
import { MembersRepository, type MemberRow } from './members.repository.ts';

export function memberView(row: MemberRow) {
  return {
    userId: row.user_id,
    email: row.email,
    name: row.name,
    role: row.role,
    source: row.source,
    joinedAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
export type MemberView = ReturnType<typeof memberView>;

function ownerProtected(): ForbiddenError {
  return new ForbiddenError('member.owner_protected', 'The owner cannot be changed or removed; ownership moves only by transfer.');
}

function membershipState(m: Membership) {
  return { userId: m.userId, role: m.role, source: m.source };
}

export class MembersService {
  readonly #scope: OrgScope;
  readonly #members: MembersRepository;
  readonly #plans: PlanDeps;

  constructor(scope: OrgScope, plans: PlanDeps) {
    this.#scope = scope;
    this.#members = new MembersRepository(scope.em);
    this.#plans = plans;
  }

  async list(query: PageQuery & { role?: string }): Promise<Page<MemberView>> {
    this.#scope.authorize('members:read');
    const rows = await this.#members.listPage(this.#scope.orgId, query.limit, query.cursor, { role: query.role });
    return toPage(rows, query.limit, (r) => r.id, memberView);
  }

  async changeRole(userId: string, role: string): Promise<void> {
    this.#scope.authorize('members:update');
    const membership = await this.#load(userId);
    if (membership.role === 'owner') {
      if (userId === this.#scope.userId) throw new ConflictError('member.last_owner', 'The owner cannot be demoted; transfer ownership first.');
      throw ownerProtected();
    }
    await assertMemberWithinCaller(this.#scope, membership.role);
    if (role === 'owner') throw new ConflictError('member.owner_by_transfer', 'Ownership changes hands only through transfer-ownership.');
    await grantableRole(this.#scope, role);
    if (role !== membership.role) await new PlanGate(this.#scope, this.#plans).requireRole(role);
    const before = membershipState(membership);
    membership.role = role;
    await this.#members.save();
    await recordAudit(this.#scope, { type: 'member.role_changed', target: { type: 'user', id: userId }, before, after: membershipState(membership) });
  }

  /** Removes a member (or lets a non-owner leave) and revokes the API keys they made here. */
  async remove(userId: string): Promise<void> {
    const self = userId === this.#scope.userId;
    if (!self) this.#scope.authorize('members:remove');
    const membership = await this.#load(userId);
    if (membership.role === 'owner') {
      if (self) throw new ConflictError('member.last_owner', 'The owner cannot leave; transfer ownership first.');
      throw ownerProtected();
    }
    if (!self) await assertMemberWithinCaller(this.#scope, membership.role);
    const before = membershipState(membership);
    await leaveAllTeams(this.#scope, userId);
    await this.#members.delete(membership);
    await recordAudit(this.#scope, { type: 'member.removed', target: { type: 'user', id: userId }, before });
    await revokeKeysOf(this.#scope, userId);
    await revokeOidcGrantsInOrg(this.#scope, userId);
  }

  /** The one owner hands ownership to another member and becomes an admin. */
  async transferOwnership(toUserId: string): Promise<void> {
    this.#scope.authorize('org:transfer');
    // The caller's own row, locked and rechecked: a transfer that committed first made them an admin.
    const current = this.#scope.userId ? await this.#members.lockByUser(this.#scope.userId) : await this.#members.lockOwner();
    if (current?.role !== 'owner') throw new ForbiddenError('auth.forbidden', 'Only the owner transfers ownership.');
    if (current.userId === toUserId) throw new ConflictError('member.already_owner', 'That member is already the owner.');
    const next = await this.#load(toUserId);
    const before = { owner: current.userId, newOwnerRole: next.role };
    // Demote first: the database allows one owner row per org at any moment.
    current.role = 'admin';
    await this.#members.save();
    next.role = 'owner';
    await this.#members.save();
    await recordAudit(this.#scope, {
      type: 'org.ownership_transferred',
      target: { type: 'user', id: toUserId },
      before,
      after: { owner: toUserId, previousOwnerRole: 'admin' },
    });
  }

  async #load(userId: string): Promise<Membership> {
    const membership = await this.#members.lockByUser(userId);
    if (!membership) throw new NotFoundError('member.not_found', 'No such member in this organization.');
    return membership;
  }
}
