import { PaymentRequiredError } from '../../errors.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import type { PlanGate } from '../billing/plan-gate.ts';
import { builtinRoles, isBuiltinRole } from '../roles/permissions.ts';
import type { OrgScope } from '../scope.ts';
import { DirectoryMembersRepository, type RoleInputs, type TeamPair } from './directory-members.repository.ts';

/**
 * How roles rank when a person's groups name several: by how many permissions the role holds.
 * The built-ins are ordered admin > member > viewer by that measure already; a custom role sits
 * where its permission count puts it among them, and on a tie a built-in wins (then the key's
 * alphabetical order, so the outcome never depends on row order). `owner` never ranks: ownership
 * moves only by transfer, and no directory can grant it. A role the org no longer has is skipped.
 */
export function highestRole(candidates: string[], customSizes: ReadonlyMap<string, number>): string | null {
  let best: { key: string; size: number; builtin: boolean } | null = null;
  for (const key of candidates) {
    if (key === 'owner') continue;
    const builtin = isBuiltinRole(key);
    const size = builtin ? builtinRoles[key].permissions.length : customSizes.get(key);
    if (size === undefined) continue;
    const better = !best || size > best.size || (size === best.size && ((builtin && !best.builtin) || (builtin === best.builtin && key < best.key)));
    if (better) best = { key, size, builtin };
  }
  return best?.key ?? null;
}

/**
 * Brings the memberships of directory users in line with the directory (issue 5 item 4): each
 * active directory user's role is the highest of the directory's default role and the roles of
 * the group rules of their groups (never owner; an owner is never demoted), and their
 * membership of every team a group rule of this directory names follows their groups. Runs in
 * the caller's transaction; audits each change it makes. `'all'`: every user of the directory
 * (after a rule or default-role change). An active user without a membership (new, reactivated,
 * or removed by an admin and then put in a ruled group) gets one (source scim).
 *
 * The plan (issue 7): memberships made here take seats like any other (plan.seat_limit, under
 * the org's seat lock), and a role the plan does not offer (a downgrade since the rule was
 * made) is not a candidate, so the person gets the directory's default role, never a higher one.
 */
export async function syncDirectoryMembers(scope: OrgScope, directoryId: string, directoryUserIds: string[] | 'all', gate: PlanGate): Promise<void> {
  await syncMembers(scope, directoryId, directoryUserIds, [], gate);
}

/** `formerTeams`: teams of rules just deleted with their group, whose memberships still follow the groups. */
export async function syncMembers(scope: OrgScope, directoryId: string, ids: string[] | 'all', formerTeams: string[], gate: PlanGate): Promise<void> {
  if (ids !== 'all' && ids.length === 0) return;
  const repo = new DirectoryMembersRepository(scope.em);
  const defaultRole = await repo.defaultRole(directoryId);
  if (defaultRole === null) return;
  const inputs = await repo.roleInputs(directoryId, ids);
  if (inputs.length === 0) return;
  const members = await applyRoles(scope, repo, defaultRole, inputs, gate);
  await applyTeams(scope, repo, directoryId, ids, members, formerTeams);
}

/** Returns the users who are members once done (a user whose every role is gone stays without one). */
async function applyRoles(scope: OrgScope, repo: DirectoryMembersRepository, defaultRole: string, inputs: RoleInputs[], gate: PlanGate): Promise<Set<string>> {
  const offered = await offeredRoles(gate, [defaultRole, ...inputs.flatMap((i) => i.ruleRoles)]);
  const sizes = await repo.customRoleSizes([...offered].filter((k) => !isBuiltinRole(k)));
  const missing: { userId: string; role: string }[] = [];
  const changes = new Map<string, RoleInputs[]>();
  for (const input of inputs) {
    const target = highestRole([defaultRole, ...input.ruleRoles].filter((k) => offered.has(k)), sizes);
    if (!target && input.role === null && !offered.has(defaultRole)) throw noOfferedRole(defaultRole);
    if (!target) continue;
    if (input.role === null) missing.push({ userId: input.userId, role: target });
    else if (input.role !== target && input.role !== 'owner') changes.set(target, [...(changes.get(target) ?? []), input]);
  }
  await gate.requireSeats(missing.length);
  const members = new Set(inputs.filter((i) => i.role !== null).map((i) => i.userId));
  for (const made of await repo.createMemberships(scope.orgId, missing)) {
    members.add(made.userId);
    await recordAudit(scope, { type: 'member.added', target: { type: 'user', id: made.userId }, after: { role: made.role, source: 'scim' } });
  }
  for (const [role, group] of changes) {
    const changed = new Set(await repo.setRole(group.map((i) => i.userId), role));
    for (const input of group.filter((i) => changed.has(i.userId))) {
      await recordAudit(scope, {
        type: 'member.role_changed', target: { type: 'user', id: input.userId },
        before: { role: input.role }, after: { role, reason: 'directory_group_rule' },
      });
    }
  }
  return members;
}

/** The roles among `keys` the org's plan lets members be given now (PlanGate.allowsRole). */
async function offeredRoles(gate: PlanGate, keys: string[]): Promise<Set<string>> {
  const offered = new Set<string>();
  for (const key of new Set(keys)) if (await gate.allowsRole(key)) offered.add(key);
  return offered;
}

/** Someone would become a member, but no role they could be given is on the plan, the default included. */
function noOfferedRole(defaultRole: string): PaymentRequiredError {
  return new PaymentRequiredError('plan.feature_unavailable',
    `The organization's plan does not include the directory's default role "${defaultRole}"; choose another default role or upgrade.`);
}

async function applyTeams(scope: OrgScope, repo: DirectoryMembersRepository, directoryId: string, ids: string[] | 'all', members: Set<string>, formerTeams: string[]): Promise<void> {
  const governed = [...new Set([...(await repo.ruledTeams(directoryId)), ...formerTeams])];
  if (governed.length === 0) return;
  const key = (p: TeamPair) => `${p.userId} ${p.teamId}`;
  const wanted = (await repo.wantedTeams(directoryId, ids)).filter((p) => members.has(p.userId));
  const current = await repo.currentTeams([...members], governed);
  const has = new Set(current.map(key));
  const wants = new Set(wanted.map(key));
  for (const added of await repo.addTeamMembers(scope.orgId, wanted.filter((p) => !has.has(key(p))))) {
    await recordAudit(scope, { type: 'team.member_added', target: { type: 'user', id: added.userId }, after: { teamId: added.teamId, userId: added.userId, role: 'member', reason: 'directory_group_rule' } });
  }
  for (const extra of current.filter((p) => !wants.has(key(p)))) {
    const removed = await repo.removeTeamMember(extra);
    if (removed) {
      await recordAudit(scope, { type: 'team.member_removed', target: { type: 'user', id: extra.userId }, before: { teamId: extra.teamId, userId: extra.userId, role: removed.role }, after: { reason: 'directory_group_rule' } });
    }
  }
}
