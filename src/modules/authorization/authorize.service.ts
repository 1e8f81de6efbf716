import { isPermission } from '../roles/permissions.ts';
import type { ProductPermissions } from '../roles/product-permissions.ts';
import type { OrgScope } from '../scope.ts';
import { TeamsRepository } from '../teams/teams.repository.ts';
import { WorkspacesRepository } from '../workspaces/workspaces.repository.ts';
import { subjectRights, type SubjectRights, type SubjectType } from './authorize-subject.ts';

export interface AuthorizeQuestion {
  subject: { type: SubjectType; id: string };
  permission: string;
  workspaceId?: string;
  teamId?: string;
}

/**
 * Why a decision went as it did. A subject that cannot act in the org now (unknown, revoked,
 * expired, removed, disabled) gets one reason, `subject_not_active`, whatever the cause: the
 * caller learns whether it may act, which is the question, and nothing about keys or accounts
 * it could not otherwise see. A workspace or team of another org is `..._not_found`, exactly as
 * one that does not exist.
 */
export type AuthorizeReason =
  | 'allowed'
  | 'subject_not_active'
  | 'unknown_permission'
  | 'permission_not_held'
  | 'workspace_not_found'
  | 'workspace_not_reachable'
  | 'team_not_found'
  | 'not_team_member';

export interface AuthorizeDecision {
  allowed: boolean;
  reason: AuthorizeReason;
  /** The role the subject acts with (an API key's own role); null when it cannot act. */
  role: string | null;
}

/** Decisions for upstream services' object-level checks (POST /api/v1/authorize). */
export class AuthorizationService {
  readonly #scope: OrgScope;
  readonly #product: ProductPermissions;

  constructor(scope: OrgScope, product: ProductPermissions) {
    this.#scope = scope;
    this.#product = product;
  }

  async decide(question: AuthorizeQuestion): Promise<AuthorizeDecision> {
    // Answers reveal who is a member and with which role: what members:read shows anyway.
    this.#scope.authorize('members:read');
    const rights = await subjectRights(this.#scope, this.#product, question.subject);
    if (!rights) return { allowed: false, reason: 'subject_not_active', role: null };
    const denied = (reason: AuthorizeReason): AuthorizeDecision => ({ allowed: false, reason, role: rights.role });
    // A stored product permission the policy no longer declares guards nothing: never allowed.
    if (!isPermission(question.permission) && !this.#product.declared.has(question.permission)) return denied('unknown_permission');
    if (!rights.permissions.has(question.permission)) return denied('permission_not_held');
    const workspace = question.workspaceId ? await this.#workspaceReason(rights, question.workspaceId) : null;
    if (workspace) return denied(workspace);
    const team = question.teamId ? await this.#teamReason(rights, question.teamId) : null;
    if (team) return denied(team);
    return { allowed: true, reason: 'allowed', role: rights.role };
  }

  async #workspaceReason(rights: SubjectRights, workspaceId: string): Promise<AuthorizeReason | null> {
    if (!(await new WorkspacesRepository(this.#scope.em).find(workspaceId))) return 'workspace_not_found';
    return rights.workspaceIds && !rights.workspaceIds.has(workspaceId) ? 'workspace_not_reachable' : null;
  }

  /** A team-owned resource: the team's members may act on it, and whoever manages every team. */
  async #teamReason(rights: SubjectRights, teamId: string): Promise<AuthorizeReason | null> {
    const teams = new TeamsRepository(this.#scope.em);
    if (!(await teams.find(teamId))) return 'team_not_found';
    if (rights.permissions.has('teams:manage')) return null;
    if (rights.userId && (await teams.findMember(teamId, rights.userId))) return null;
    return 'not_team_member';
  }
}
