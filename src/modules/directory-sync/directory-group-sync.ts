import { v7 as uuidv7 } from 'uuid';
import { recordAudit, recordAudits } from '../audit/audit.recorder.ts';
import type { PlanGate } from '../billing/plan-gate.ts';
import type { OrgScope } from '../scope.ts';
import { checkVersion, groupNotFound, isUuid, notADirectoryUser } from './directory-errors.ts';
import { compileFilter } from './directory-filter.sql.ts';
import type { DirectoryContext, DirectoryGroupInput, DirectoryGroupRecord, GroupChange, ListQuery, MemberRef, Page } from './directory-records.ts';
import { DirectoryGroupsRepository } from './directory-groups.repository.ts';
import { DirectoryUsersRepository } from './directory-users.repository.ts';
import { syncMembers } from './membership-sync.ts';

// The Group half of the directory-sync service (RFC 7644 §3.3, §3.5.2). Display names are not
// unique (RFC 7643 §4.2 gives displayName no uniqueness) and may change. A membership change
// costs statements over the ids it names, and recomputes roles and teams only for the users
// whose membership changed, and only when the group has rules at all.

/** Every id must be a user of this directory; the first that is not is named, before anything changes. */
async function assertDirectoryUsers(scope: OrgScope, dir: DirectoryContext, ids: string[]): Promise<void> {
  const malformed = ids.find((id) => !isUuid(id));
  if (malformed !== undefined) throw notADirectoryUser(malformed);
  const [missing] = await new DirectoryUsersRepository(scope.em).missing(dir.directoryId, ids);
  if (missing !== undefined) throw notADirectoryUser(missing);
}

const distinct = (ids: string[]) => [...new Set(ids.map((id) => id.toLowerCase()))];

async function load(scope: OrgScope, dir: DirectoryContext, id: string, lock = false): Promise<DirectoryGroupRecord> {
  const group = isUuid(id) ? await new DirectoryGroupsRepository(scope.em).find(dir.directoryId, id, lock) : null;
  if (!group) throw groupNotFound();
  return group;
}

/** Removed then added again is no change; what is left of each side changed. */
function netChange(removed: string[], added: string[]): { added: string[]; removed: string[] } {
  const a = new Set(added);
  const r = new Set(removed);
  return { added: [...a].filter((id) => !r.has(id)), removed: [...r].filter((id) => !a.has(id)) };
}

/**
 * After a membership change: audit it, and recompute the changed users if the group has rules
 * (which may make someone a member again: a seat and a role of the plan, as membership-sync.ts says).
 */
async function membersChanged(scope: OrgScope, dir: DirectoryContext, groupId: string, change: { added: string[]; removed: string[] }, gate: PlanGate): Promise<void> {
  const changed = [...change.added, ...change.removed];
  if (changed.length === 0) return;
  if ((await new DirectoryGroupsRepository(scope.em).rulesOf(groupId)).any) await syncMembers(scope, dir.directoryId, changed, [], gate);
  await recordAudit(scope, { type: 'directory.group_members_changed', target: { type: 'directory_group', id: groupId }, after: change });
}

async function renamed(scope: OrgScope, before: DirectoryGroupRecord, after: DirectoryGroupRecord): Promise<void> {
  if (before.displayName === after.displayName && before.externalId === after.externalId) return;
  await recordAudit(scope, {
    type: 'directory.group_updated', target: { type: 'directory_group', id: after.id },
    before: { displayName: before.displayName, externalId: before.externalId }, after: { displayName: after.displayName, externalId: after.externalId },
  });
}

export async function createGroup(scope: OrgScope, dir: DirectoryContext, input: DirectoryGroupInput, memberIds: string[]): Promise<DirectoryGroupRecord> {
  const ids = distinct(memberIds);
  await assertDirectoryUsers(scope, dir, ids);
  const repo = new DirectoryGroupsRepository(scope.em);
  const group = await repo.insert({ id: uuidv7(), orgId: dir.orgId, directoryId: dir.directoryId }, input);
  const added = await repo.addMembers(dir.orgId, group.id, ids);
  // A new group has no rules yet, so nobody's role or teams change.
  await recordAudits(scope, [
    { type: 'directory.group_created', target: { type: 'directory_group', id: group.id }, after: { directoryId: dir.directoryId, displayName: group.displayName, externalId: group.externalId } },
    ...(added.length ? [{ type: 'directory.group_members_changed', target: { type: 'directory_group', id: group.id }, after: { added, removed: [] } }] : []),
  ]);
  return group;
}

export async function getGroup(scope: OrgScope, dir: DirectoryContext, id: string, opts: { members: boolean }): Promise<{ group: DirectoryGroupRecord; members?: MemberRef[] }> {
  const group = await load(scope, dir, id);
  if (!opts.members) return { group };
  const members = await new DirectoryGroupsRepository(scope.em).membersOf([group.id]);
  return { group, members: members.get(group.id) ?? [] };
}

export async function listGroups(scope: OrgScope, dir: DirectoryContext, query: ListQuery, opts: { members: boolean }): Promise<Page<{ group: DirectoryGroupRecord; members?: MemberRef[] }>> {
  const repo = new DirectoryGroupsRepository(scope.em);
  const page = await repo.page(dir.directoryId, compileFilter(query.filter, 'groups'), Math.max(1, query.startIndex), Math.max(0, query.count));
  if (!opts.members) return { totalResults: page.totalResults, items: page.items.map((group) => ({ group })) };
  const members = await repo.membersOf(page.items.map((g) => g.id));
  return { totalResults: page.totalResults, items: page.items.map((group) => ({ group, members: members.get(group.id) ?? [] })) };
}

/** PUT: the members become exactly the list (the difference is found by the database). */
export async function replaceGroup(scope: OrgScope, dir: DirectoryContext, id: string, input: DirectoryGroupInput, memberIds: string[], gate: PlanGate, ifVersion?: number): Promise<DirectoryGroupRecord> {
  const group = await load(scope, dir, id, true);
  checkVersion(group.version, ifVersion);
  const ids = distinct(memberIds);
  await assertDirectoryUsers(scope, dir, ids);
  const repo = new DirectoryGroupsRepository(scope.em);
  const removed = await repo.removeAllBut(group.id, ids);
  const added = await repo.addMembers(dir.orgId, group.id, ids);
  const updated = await repo.update(group.id, input);
  await membersChanged(scope, dir, group.id, { added, removed }, gate);
  await renamed(scope, group, updated);
  return updated;
}

/** PATCH (RFC 7644 §3.5.2): every member first if asked, then the named removals, then the additions. */
export async function patchGroup(scope: OrgScope, dir: DirectoryContext, id: string, change: GroupChange, gate: PlanGate, ifVersion?: number): Promise<DirectoryGroupRecord> {
  const group = await load(scope, dir, id, true);
  checkVersion(group.version, ifVersion);
  const add = distinct(change.addMembers);
  await assertDirectoryUsers(scope, dir, add);
  const repo = new DirectoryGroupsRepository(scope.em);
  const removedAll = change.removeAllMembers ? await repo.removeAllBut(group.id, []) : [];
  // Removing an id that names nobody is a no-op, as removing a non-member is.
  const removed = await repo.removeMembers(group.id, distinct(change.removeMembers).filter(isUuid));
  const added = await repo.addMembers(dir.orgId, group.id, add);
  const updated = await repo.update(group.id, {
    displayName: change.displayName ?? group.displayName,
    externalId: change.externalId !== undefined ? change.externalId : group.externalId,
  });
  await membersChanged(scope, dir, group.id, netChange([...removedAll, ...removed], added), gate);
  await renamed(scope, group, updated);
  return updated;
}

/** DELETE: its members leave it, so their roles and the teams its rules named are recomputed. */
export async function deleteGroup(scope: OrgScope, dir: DirectoryContext, id: string, gate: PlanGate, ifVersion?: number): Promise<void> {
  const group = await load(scope, dir, id, true);
  checkVersion(group.version, ifVersion);
  const repo = new DirectoryGroupsRepository(scope.em);
  const rules = await repo.rulesOf(group.id);
  const members = rules.any ? await repo.memberIds(group.id) : [];
  await repo.delete(group.id);
  await syncMembers(scope, dir.directoryId, members, rules.teamIds, gate);
  await recordAudit(scope, { type: 'directory.group_deleted', target: { type: 'directory_group', id: group.id }, before: { displayName: group.displayName, externalId: group.externalId } });
}
