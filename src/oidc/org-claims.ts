import type { Database } from '../db/database.ts';
import { MembersRepository } from '../modules/members/members.repository.ts';
import { OrgsRepository } from '../modules/orgs/orgs.repository.ts';
import { permissionsOfRole } from '../modules/roles/permissions.ts';
import { RolesRepository } from '../modules/roles/roles.repository.ts';
import { TeamsRepository } from '../modules/teams/teams.repository.ts';

export interface OrgClaims {
  org_id: string;
  org_slug: string;
  org_role: string;
  permissions: string[];
  teams: string[];
}

/**
 * What a user's tokens say about one org (DESIGN.md contracts): read in that org's transaction,
 * at the moment of issue, so a changed role or a removal shows in the next token. Null when the
 * user is no longer a member.
 */
export function orgClaimsOf(db: Database, orgId: string, userId: string): Promise<OrgClaims | null> {
  return db.inOrg(orgId, async (em) => {
    const org = await new OrgsRepository(em).find(orgId);
    const membership = await new MembersRepository(em).findByUser(userId);
    if (!org || !membership) return null;
    const custom = await new RolesRepository(em).findByKey(membership.role);
    const teams = await new TeamsRepository(em).membershipsOf(userId);
    return {
      org_id: org.id,
      org_slug: org.slug,
      org_role: membership.role,
      permissions: [...permissionsOfRole(membership.role, custom?.permissions ?? null)],
      teams: teams.map((t) => t.teamId),
    };
  });
}
