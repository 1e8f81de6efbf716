import type { OrgScope } from '../scope.ts';

// STUB (issue 5 wiring): implemented by the directory-sync work.

/**
 * Brings the memberships of directory users in line with the directory (issue 5 item 4): each
 * active directory user's role is the highest of the directory's default role and the roles of
 * the group rules of their groups (never owner; an owner is never demoted), and their
 * membership of every team a group rule of this directory names follows their groups. Runs in
 * the caller's transaction; audits each change it makes. `'all'`: every user of the directory
 * (after a rule or default-role change).
 */
export async function syncDirectoryMembers(_scope: OrgScope, _directoryId: string, _directoryUserIds: string[] | 'all'): Promise<void> {
  throw new Error('directory sync: not implemented yet');
}
