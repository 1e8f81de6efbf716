import { ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { MembersRepository } from '../members/members.repository.ts';
import type { Membership } from '../members/membership.entity.ts';
import { assertMemberWithinCaller } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
import { workspaceBounds } from './workspace-bounds.ts';
import { WorkspacesRepository, type WorkspaceLimits } from './workspaces.repository.ts';

function notAMember(): NotFoundError {
  return new NotFoundError('member.not_found', 'No such member in this organization.');
}

/** Which workspaces a member reaches: every one (`workspaceIds: null`) or exactly the listed ones. */
export class WorkspaceLimitsService {
  readonly #scope: OrgScope;
  readonly #workspaces: WorkspacesRepository;

  constructor(scope: OrgScope) {
    this.#scope = scope;
    this.#workspaces = new WorkspacesRepository(scope.em);
  }

  async get(userId: string): Promise<WorkspaceLimits> {
    this.#scope.authorize('members:read');
    const limits = await this.#workspaces.limitsOf(this.#scope.orgId, userId);
    if (!limits) throw notAMember();
    return limits;
  }

  /** null = every workspace; a list = limited to exactly those (possibly none). */
  async set(userId: string, workspaceIds: string[] | null): Promise<WorkspaceLimits> {
    this.#scope.authorize('workspaces:manage');
    const membership = await this.#loadMember(userId);
    await assertMemberWithinCaller(this.#scope, membership.role);
    const wanted = workspaceIds === null ? null : [...new Set(workspaceIds)].sort();
    await this.#assertKnown(workspaceIds ?? []);
    await this.#assertWithinCallerBounds(wanted);
    const before = await this.#workspaces.limitsOf(this.#scope.orgId, userId);
    await this.#workspaces.setLimits(this.#scope.orgId, userId, wanted);
    const after: WorkspaceLimits = { limited: wanted !== null, workspaceIds: wanted };
    await recordAudit(this.#scope, { type: 'member.workspaces_changed', target: { type: 'user', id: userId }, before, after });
    return after;
  }

  /** Locked, so a concurrent removal or role change of the member takes turns with this. */
  async #loadMember(userId: string): Promise<Membership> {
    const membership = await new MembersRepository(this.#scope.em).lockByUser(userId);
    if (!membership) throw notAMember();
    return membership;
  }

  async #assertKnown(workspaceIds: readonly string[]): Promise<void> {
    const known = await this.#workspaces.existing(workspaceIds);
    const errors = workspaceIds.flatMap((id, i) => (known.has(id) ? [] : [{ field: `body.workspaceIds.${i}`, message: 'no such workspace in this organization' }]));
    if (errors.length) throw new ValidationError(errors);
  }

  /** A caller limited to some workspaces gives nobody reach beyond them (nor unlimited reach). */
  async #assertWithinCallerBounds(wanted: readonly string[] | null): Promise<void> {
    const bounds = await workspaceBounds(this.#scope);
    if (bounds && (wanted === null || wanted.some((id) => !bounds.has(id)))) {
      throw new ForbiddenError('workspace.above_caller', 'You are limited to some workspaces and cannot give anyone reach beyond them.');
    }
  }
}
