import { ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { MembersRepository } from '../members/members.repository.ts';
import type { OrgScope } from '../scope.ts';
import type { Team, TeamMember, TeamRole } from './team.entity.ts';
import { TeamsRepository, type TeamMemberRow } from './teams.repository.ts';
import { loadTeam } from './teams.service.ts';

export function teamMemberView(row: TeamMemberRow) {
  return {
    userId: row.user_id,
    email: row.email,
    name: row.name,
    role: row.role,
    joinedAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
export type TeamMemberView = ReturnType<typeof teamMemberView>;

function memberState(m: TeamMember) {
  return { teamId: m.teamId, userId: m.userId, role: m.role };
}

/** Takes a user out of every team of the scoped org, one audited removal each (they are leaving it). */
export async function leaveAllTeams(scope: OrgScope, userId: string): Promise<void> {
  const teams = new TeamsRepository(scope.em);
  for (const member of await teams.membershipsOf(userId)) {
    const before = memberState(member);
    await teams.removeMember(member);
    await recordAudit(scope, { type: 'team.member_removed', target: { type: 'user', id: userId }, before, after: { reason: 'member_removed' } });
  }
}

function notAMember(): NotFoundError {
  // The same answer for a user of another org and one that does not exist: nothing leaks.
  return new NotFoundError('member.not_found', 'No such member in this organization.');
}

function memberExists(): ConflictError {
  return new ConflictError('team_member.exists', 'That user is already a member of this team.');
}

export class TeamMembersService {
  readonly #scope: OrgScope;
  readonly #teams: TeamsRepository;
  readonly #plans: PlanDeps | null;

  /** `plans`: the management API always passes them (adding a member needs the teams feature). */
  constructor(scope: OrgScope, plans: PlanDeps | null = null) {
    this.#plans = plans;
    this.#scope = scope;
    this.#teams = new TeamsRepository(scope.em);
  }

  async list(teamId: string, query: PageQuery): Promise<Page<TeamMemberView>> {
    this.#scope.authorize('teams:read');
    const team = await loadTeam(this.#teams, teamId);
    const rows = await this.#teams.memberPage(this.#scope.orgId, team.id, query.limit, query.cursor);
    return toPage(rows, query.limit, (r) => r.id, teamMemberView);
  }

  async add(teamId: string, input: { userId: string; role: TeamRole }): Promise<TeamMemberView> {
    const team = await this.#loadManaged(teamId);
    // After a downgrade the org keeps its teams, but they take no new members.
    if (this.#plans) await new PlanGate(this.#scope, this.#plans).requireFeature('teams');
    if (!(await new MembersRepository(this.#scope.em).findByUser(input.userId))) throw notAMember();
    if (await this.#teams.findMember(team.id, input.userId)) throw memberExists();
    let member: TeamMember;
    try {
      member = await this.#teams.addMember({ orgId: this.#scope.orgId, teamId: team.id, userId: input.userId, role: input.role });
    } catch (err) {
      // Races with a concurrent add (unique) or the user leaving the org (FK to memberships).
      if (err instanceof UniqueConstraintViolationException) throw memberExists();
      if (err instanceof ForeignKeyConstraintViolationException) throw notAMember();
      throw err;
    }
    await recordAudit(this.#scope, { type: 'team.member_added', target: { type: 'user', id: input.userId }, after: memberState(member) });
    return this.#view(team.id, input.userId);
  }

  async changeRole(teamId: string, userId: string, role: TeamRole): Promise<void> {
    const team = await this.#loadManaged(teamId);
    const member = await this.#loadMember(team, userId);
    const before = memberState(member);
    member.role = role;
    await this.#teams.save();
    await recordAudit(this.#scope, { type: 'team.member_role_changed', target: { type: 'user', id: userId }, before, after: memberState(member) });
  }

  async remove(teamId: string, userId: string): Promise<void> {
    const team = await this.#loadManaged(teamId);
    const member = await this.#loadMember(team, userId);
    const before = memberState(member);
    await this.#teams.removeMember(member);
    await recordAudit(this.#scope, { type: 'team.member_removed', target: { type: 'user', id: userId }, before });
  }

  /**
   * The team, if the caller may manage its members: teams:manage, or being an admin of this very
   * team. Team adminship belongs to the user, so the credential must at least hold teams:read:
   * a key narrowed to other work does not inherit it.
   */
  async #loadManaged(teamId: string): Promise<Team> {
    const manager = this.#scope.can('teams:manage');
    if (!manager) this.#scope.authorize('teams:read');
    const team = await loadTeam(this.#teams, teamId);
    if (manager) return team;
    const self = this.#scope.userId ? await this.#teams.findMember(team.id, this.#scope.userId) : null;
    if (self?.role !== 'admin') {
      throw new ForbiddenError('auth.forbidden', 'This needs the teams:manage permission or being an admin of this team.');
    }
    return team;
  }

  async #loadMember(team: Team, userId: string): Promise<TeamMember> {
    const member = await this.#teams.findMember(team.id, userId);
    if (!member) throw new NotFoundError('team_member.not_found', 'That user is not a member of this team.');
    return member;
  }

  async #view(teamId: string, userId: string): Promise<TeamMemberView> {
    const row = await this.#teams.memberRow(this.#scope.orgId, teamId, userId);
    if (!row) throw new NotFoundError('team_member.not_found', 'That user is not a member of this team.');
    return teamMemberView(row);
  }
}
