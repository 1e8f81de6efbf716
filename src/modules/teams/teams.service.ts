import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError, NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import type { OrgScope } from '../scope.ts';
import type { Team } from './team.entity.ts';
import { TeamsRepository } from './teams.repository.ts';

export function teamView(team: Team) {
  return {
    id: team.id,
    name: team.name,
    description: team.description ?? null,
    createdAt: team.createdAt,
    updatedAt: team.updatedAt,
  };
}
export type TeamView = ReturnType<typeof teamView>;

function teamState(team: Team) {
  return { id: team.id, name: team.name, description: team.description ?? null };
}

function teamExists(name: string): ConflictError {
  return new ConflictError('team.exists', `A team named "${name}" already exists.`);
}

/** A team of the scoped org, or team.not_found (another org's team is not found, by filter and RLS). */
export async function loadTeam(teams: TeamsRepository, teamId: string): Promise<Team> {
  const team = await teams.find(teamId);
  if (!team) throw new NotFoundError('team.not_found', 'No such team in this organization.');
  return team;
}

export class TeamsService {
  readonly #scope: OrgScope;
  readonly #teams: TeamsRepository;
  readonly #plans: PlanDeps;

  constructor(scope: OrgScope, plans: PlanDeps) {
    this.#scope = scope;
    this.#teams = new TeamsRepository(scope.em);
    this.#plans = plans;
  }

  async list(query: PageQuery): Promise<Page<TeamView>> {
    this.#scope.authorize('teams:read');
    const rows = await this.#teams.listPage(query.limit, query.cursor);
    return toPage(rows, query.limit, (t) => t.id, teamView);
  }

  async get(teamId: string): Promise<TeamView> {
    this.#scope.authorize('teams:read');
    return teamView(await loadTeam(this.#teams, teamId));
  }

  async create(input: { name: string; description?: string }): Promise<TeamView> {
    this.#scope.authorize('teams:manage');
    await new PlanGate(this.#scope, this.#plans).requireFeature('teams');
    let team: Team;
    try {
      team = await this.#teams.create({ orgId: this.#scope.orgId, name: input.name, description: input.description ?? null });
    } catch (err) {
      // Names are unique per org case-insensitively (teams_name_key on lower(name)).
      if (err instanceof UniqueConstraintViolationException) throw teamExists(input.name);
      throw err;
    }
    await recordAudit(this.#scope, { type: 'team.created', target: { type: 'team', id: team.id }, after: teamState(team) });
    return teamView(team);
  }

  async update(teamId: string, patch: { name?: string; description?: string | null }): Promise<TeamView> {
    this.#scope.authorize('teams:manage');
    const team = await loadTeam(this.#teams, teamId);
    const before = teamState(team);
    if (patch.name !== undefined) team.name = patch.name;
    if (patch.description !== undefined) team.description = patch.description;
    try {
      await this.#teams.save();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw teamExists(team.name);
      throw err;
    }
    await recordAudit(this.#scope, { type: 'team.updated', target: { type: 'team', id: team.id }, before, after: teamState(team) });
    return teamView(team);
  }

  /** Deletes a team and its membership; people stay members of the org. */
  async delete(teamId: string): Promise<void> {
    this.#scope.authorize('teams:manage');
    const team = await loadTeam(this.#teams, teamId);
    const before = { ...teamState(team), memberCount: await this.#teams.countMembers(team.id) };
    await this.#teams.delete(team);
    await recordAudit(this.#scope, { type: 'team.deleted', target: { type: 'team', id: teamId }, before });
  }
}
