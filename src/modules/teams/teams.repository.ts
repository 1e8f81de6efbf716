import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { Team, TeamMember, type TeamRole } from './team.entity.ts';
import { toDate } from '../../db/rows.ts';

export interface TeamMemberRow {
  id: string;
  user_id: string;
  email: string;
  name: string | null;
  role: TeamRole;
  created_at: Date;
  updated_at: Date;
}

const memberColumns = 'tm.id, tm.user_id, u.email, u.name, tm.role, tm.created_at, tm.updated_at';

function withDates(row: TeamMemberRow): TeamMemberRow {
  return { ...row, created_at: toDate(row.created_at), updated_at: toDate(row.updated_at) };
}

export class TeamsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** One page of teams in creation order (ids are time-ordered v7). */
  listPage(limit: number, after: string | undefined): Promise<Team[]> {
    return this.#em.find(Team, after ? { id: { $gt: after } } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
  }

  find(id: string): Promise<Team | null> {
    return this.#em.findOne(Team, { id });
  }

  async create(input: { orgId: string; name: string; description: string | null }): Promise<Team> {
    const team = this.#em.create(Team, { id: uuidv7(), ...input });
    await this.#em.flush();
    return team;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  /** Deletes the team; its team_members rows go with it (ON DELETE CASCADE). */
  async delete(team: Team): Promise<void> {
    this.#em.remove(team);
    await this.#em.flush();
  }

  countMembers(teamId: string): Promise<number> {
    return this.#em.count(TeamMember, { teamId });
  }

  /** One page of a team's members with their user, in the order they joined. */
  async memberPage(orgId: string, teamId: string, limit: number, after: string | undefined): Promise<TeamMemberRow[]> {
    const params: unknown[] = [orgId, teamId];
    if (after) params.push(after);
    params.push(limit + 1);
    const rows = await this.#em.execute<TeamMemberRow[]>(
      `SELECT ${memberColumns}
         FROM team_members tm JOIN users u ON u.id = tm.user_id
        WHERE tm.org_id = ? AND tm.team_id = ?${after ? ' AND tm.id > ?' : ''}
        ORDER BY tm.id LIMIT ?`,
      params,
    );
    return rows.map(withDates);
  }

  async memberRow(orgId: string, teamId: string, userId: string): Promise<TeamMemberRow | null> {
    const rows = await this.#em.execute<TeamMemberRow[]>(
      `SELECT ${memberColumns}
         FROM team_members tm JOIN users u ON u.id = tm.user_id
        WHERE tm.org_id = ? AND tm.team_id = ? AND tm.user_id = ?`,
      [orgId, teamId, userId],
    );
    return rows[0] ? withDates(rows[0]) : null;
  }

  membershipsOf(userId: string): Promise<TeamMember[]> {
    return this.#em.find(TeamMember, { userId }, { orderBy: { id: 'asc' } });
  }

  findMember(teamId: string, userId: string): Promise<TeamMember | null> {
    return this.#em.findOne(TeamMember, { teamId, userId });
  }

  async addMember(input: { orgId: string; teamId: string; userId: string; role: TeamRole }): Promise<TeamMember> {
    const member = this.#em.create(TeamMember, { id: uuidv7(), ...input });
    await this.#em.flush();
    return member;
  }

  async removeMember(member: TeamMember): Promise<void> {
    this.#em.remove(member);
    await this.#em.flush();
  }
}
