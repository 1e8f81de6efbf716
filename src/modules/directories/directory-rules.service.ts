import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import { toPage, type PageQuery } from '../../http/pagination.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { syncDirectoryMembers } from '../directory-sync/membership-sync.ts';
import type { OrgScope } from '../scope.ts';
import { TeamsRepository } from '../teams/teams.repository.ts';
import { DirectoriesRepository, type DirectoryRuleRow } from './directories.repository.ts';
import { authorizeDirectoryChange, directoryRole, loadDirectory } from './directories.service.ts';
import { ruleView } from './directory-view.ts';

export type RuleInput = { groupId: string; role: string } | { groupId: string; teamId: string };

const duplicate = () => new ConflictError('directory.rule_exists', 'This group already has that rule.');

/** What the audit trail keeps of a rule. */
function auditView(r: DirectoryRuleRow) {
  return { ruleId: r.id, groupId: r.group_id, groupDisplayName: r.group_display_name, role: r.role, teamId: r.team_id };
}

/**
 * Group → role and group → team rules of a directory. A change re-levels the group's members
 * in the same transaction (highest role wins: membership-sync.ts).
 */
export class DirectoryRulesService {
  readonly #scope: OrgScope;
  readonly #repo: DirectoriesRepository;
  /** The plan: a rule's role must be on it, and members the rule makes take seats. */
  readonly #gate: PlanGate;

  constructor(scope: OrgScope, plans: PlanDeps) {
    this.#scope = scope;
    this.#repo = new DirectoriesRepository(scope.em);
    this.#gate = new PlanGate(scope, plans);
  }

  async list(directoryId: string, query: PageQuery) {
    this.#scope.authorize('directories:manage');
    await loadDirectory(this.#repo, directoryId);
    const rows = await this.#repo.rulesPage(directoryId, query.limit, query.cursor);
    return toPage(rows, query.limit, (r) => r.id, ruleView);
  }

  async add(directoryId: string, input: RuleInput) {
    authorizeDirectoryChange(this.#scope);
    await loadDirectory(this.#repo, directoryId);
    const { role, teamId } = await this.#checkRule(directoryId, input);
    if (await this.#repo.ruleExists(input.groupId, role, teamId)) throw duplicate();
    const id = uuidv7();
    await this.#repo.insertRule({ id, orgId: this.#scope.orgId, directoryId, groupId: input.groupId, role, teamId }).catch((err: unknown) => {
      throw err instanceof UniqueConstraintViolationException ? duplicate() : err;
    });
    const rule = (await this.#repo.findRule(directoryId, id))!;
    await this.#audit('directory.rule_added', directoryId, null, auditView(rule));
    await this.#sync(directoryId, input.groupId);
    return ruleView(rule);
  }

  async remove(directoryId: string, ruleId: string): Promise<void> {
    authorizeDirectoryChange(this.#scope);
    await loadDirectory(this.#repo, directoryId);
    const rule = await this.#repo.findRule(directoryId, ruleId);
    if (!rule) throw new NotFoundError('directory.rule_not_found', 'No such rule in this directory.');
    await this.#repo.deleteRule(rule.id);
    await this.#audit('directory.rule_removed', directoryId, auditView(rule), null);
    await this.#sync(directoryId, rule.group_id);
  }

  /** The group is one of this directory's; the role one the caller may grant; the team the org's. */
  async #checkRule(directoryId: string, input: RuleInput): Promise<{ role: string | null; teamId: string | null }> {
    if (!(await this.#repo.groupExists(directoryId, input.groupId))) {
      throw new ValidationError([{ field: 'body.groupId', message: `no group "${input.groupId}" in this directory` }]);
    }
    if ('role' in input) return { role: await directoryRole(this.#scope, input.role, 'body.role', this.#gate), teamId: null };
    if (!(await new TeamsRepository(this.#scope.em).find(input.teamId))) {
      throw new ValidationError([{ field: 'body.teamId', message: `unknown team "${input.teamId}"` }]);
    }
    return { role: null, teamId: input.teamId };
  }

  /** Only the group's members can be affected by one of its rules. */
  async #sync(directoryId: string, groupId: string): Promise<void> {
    const members = await this.#repo.groupMemberIds(groupId);
    if (members.length) await syncDirectoryMembers(this.#scope, directoryId, members, this.#gate);
  }

  #audit(type: string, directoryId: string, before: object | null, after: object | null): Promise<void> {
    return recordAudit(this.#scope, { type, target: { type: 'directory', id: directoryId }, before, after });
  }
}
