import { v7 as uuidv7 } from 'uuid';
import { recordAudit, recordAudits } from '../audit/audit.recorder.ts';
import type { PlanGate } from '../billing/plan-gate.ts';
import { MembersRepository } from '../members/members.repository.ts';
import type { OrgScope } from '../scope.ts';
import { assertNotOwner, endMembership, reenableManaged } from './deprovisioning.ts';
import { checkVersion, isUniqueViolation, isUuid, uniqueness, userNotFound } from './directory-errors.ts';
import { compileFilter } from './directory-filter.sql.ts';
import type { DirectoryContext, DirectoryUserInput, DirectoryUserRecord, GroupRef, ListQuery, Page } from './directory-records.ts';
import { DirectoryUsersRepository } from './directory-users.repository.ts';
import { syncMembers } from './membership-sync.ts';
import { accountFor, linkEmail } from './user-links.ts';

// The User half of the directory-sync service (RFC 7644 §3.3, §3.5, §3.6): each function runs
// in the directory's org transaction with the directory as actor (directory-sync.service.ts).

/** What the audit trail keeps of a directory user (not the whole resource). */
function summary(u: DirectoryUserRecord) {
  return { userName: u.userName, externalId: u.externalId, email: u.email, active: u.active, displayName: u.displayName, userId: u.userId, version: u.version };
}

async function insertOrConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isUniqueViolation(err)) throw uniqueness(err);
    throw err;
  }
}

/**
 * A new directory user linked to an account (user-links.ts) and, if active, a membership
 * (source scim, the directory's default role: a new directory user is in no group yet). A
 * membership the person already had is kept as it is until their groups change. Few
 * statements, the audit last: it holds the org's chain head until commit.
 */
export async function createUser(scope: OrgScope, dir: DirectoryContext, given: DirectoryUserInput, gate: PlanGate): Promise<DirectoryUserRecord> {
  const input = { ...given, active: given.active ?? true };
  const email = linkEmail(input);
  const name = input.displayName ?? ([input.givenName, input.familyName].filter(Boolean).join(' ') || null);
  const { id: userId, managedBefore } = await accountFor(scope.em, dir.orgId, email, name);
  if (input.active) await requireSeatFor(scope, gate, userId, dir.defaultRole);
  if (!input.active) await assertNotOwner(scope, userId);
  const { user, memberRole } = await insertOrConflict(() => new DirectoryUsersRepository(scope.em).insert(
    { id: uuidv7(), orgId: dir.orgId, directoryId: dir.directoryId, userId }, input, input.active ? dir.defaultRole : null));
  // Pushed as inactive: a membership the person already had (an earlier invitation) ends too.
  if (!input.active) await endMembership(scope, userId, 'directory_suspended', false);
  if (input.active && managedBefore) await reenableManaged(scope, userId);
  await recordAudits(scope, [
    { type: 'directory.user_created', target: { type: 'directory_user', id: user.id }, after: { directoryId: dir.directoryId, ...summary(user) } },
    ...(memberRole ? [{ type: 'member.added', target: { type: 'user', id: userId }, after: { role: memberRole, source: 'scim', directoryId: dir.directoryId } }] : []),
  ]);
  return user;
}

/**
 * A person who is not yet a member takes a seat (plan.seat_limit otherwise), and the role they
 * get must be on the plan (`role`: the directory's default for a new user; a restored one's is
 * checked when membership-sync.ts picks it). Thrown inside the directory's transaction, so an
 * account accountFor just made is rolled back with it.
 */
async function requireSeatFor(scope: OrgScope, gate: PlanGate, userId: string, role?: string): Promise<void> {
  if (await new MembersRepository(scope.em).findByUser(userId)) return;
  if (role !== undefined) await gate.requireRole(role);
  await gate.requireSeats(1);
}

async function load(scope: OrgScope, dir: DirectoryContext, id: string, lock = false): Promise<DirectoryUserRecord> {
  const user = isUuid(id) ? await new DirectoryUsersRepository(scope.em).find(dir.directoryId, id, lock) : null;
  if (!user) throw userNotFound();
  return user;
}

export async function getUser(scope: OrgScope, dir: DirectoryContext, id: string): Promise<{ user: DirectoryUserRecord; groups: GroupRef[] }> {
  const user = await load(scope, dir, id);
  const groups = await new DirectoryUsersRepository(scope.em).groupsOf([user.id]);
  return { user, groups: groups.get(user.id) ?? [] };
}

/** RFC 7644 §3.4.2: the filter is SQL over the indexed columns; the page is ORDER BY id LIMIT/OFFSET. */
export async function listUsers(scope: OrgScope, dir: DirectoryContext, query: ListQuery, opts: { groups: boolean }): Promise<Page<{ user: DirectoryUserRecord; groups?: GroupRef[] }>> {
  const repo = new DirectoryUsersRepository(scope.em);
  const page = await repo.page(dir.directoryId, compileFilter(query.filter, 'users'), Math.max(1, query.startIndex), Math.max(0, query.count));
  if (!opts.groups) return { totalResults: page.totalResults, items: page.items.map((user) => ({ user })) };
  const groups = await repo.groupsOf(page.items.map((u) => u.id));
  return { totalResults: page.totalResults, items: page.items.map((user) => ({ user, groups: groups.get(user.id) ?? [] })) };
}

/**
 * PUT (and PATCH once the edge applied its operations). `active` true → false suspends the
 * membership (deprovisioning.ts); false → true restores it with the role and teams the person's
 * groups give. The linked account does not change with the email: the link was decided once.
 */
export async function replaceUser(scope: OrgScope, dir: DirectoryContext, id: string, given: DirectoryUserInput, gate: PlanGate, ifVersion?: number): Promise<DirectoryUserRecord> {
  const current = await load(scope, dir, id, true);
  checkVersion(current.version, ifVersion);
  const input = { ...given, active: given.active ?? current.active };
  const suspending = current.active && !input.active;
  const restoring = !current.active && input.active;
  if (suspending) await assertNotOwner(scope, current.userId);
  if (restoring) await requireSeatFor(scope, gate, current.userId);
  const updated = await insertOrConflict(() => new DirectoryUsersRepository(scope.em).update(current.id, input));
  if (suspending) await endMembership(scope, current.userId, 'directory_suspended', false);
  if (restoring) await reenableManaged(scope, current.userId);
  if (restoring) await syncMembers(scope, dir.directoryId, [current.id], [], gate);
  await recordAudits(scope, [
    { type: 'directory.user_updated', target: { type: 'directory_user', id }, before: summary(current), after: summary(updated) },
    ...(suspending || restoring ? [{ type: suspending ? 'directory.user_suspended' : 'directory.user_restored', target: { type: 'directory_user', id }, after: { userId: current.userId } }] : []),
  ]);
  return updated;
}

/** DELETE: the row goes with its group memberships (cascade), and the membership with everything it opened. */
export async function deleteUser(scope: OrgScope, dir: DirectoryContext, id: string, ifVersion?: number): Promise<void> {
  const current = await load(scope, dir, id, true);
  checkVersion(current.version, ifVersion);
  await assertNotOwner(scope, current.userId);
  const repo = new DirectoryUsersRepository(scope.em);
  const groups = (await repo.groupsOf([current.id])).get(current.id) ?? [];
  await repo.delete(current.id);
  await endMembership(scope, current.userId, 'directory_deleted', true);
  await recordAudit(scope, { type: 'directory.user_deleted', target: { type: 'directory_user', id }, before: { ...summary(current), groups: groups.map((g) => g.id) } });
}
