import type { Database } from '../../db/database.ts';
import type {
  DirectoryContext, DirectoryGroupInput, DirectoryGroupRecord, DirectoryUserInput, DirectoryUserRecord,
  GroupChange, GroupRef, ListQuery, MemberRef, Page,
} from './directory-records.ts';

export interface DirectorySyncDeps {
  db: Database;
}

// STUB (issue 5 wiring): each method is implemented by the directory-sync work.
const todo = (): never => { throw new Error('directory sync: not implemented yet'); };

/**
 * What a directory's IdP may do to the org (issue 5): every method runs in one transaction of
 * the directory's org, audits with the directory as actor, and throws AppErrors (scim.* codes).
 * `ifVersion`: the version the caller last saw (an If-Match ETag); a different one is a 412.
 */
export class DirectorySyncService {
  readonly #deps: DirectorySyncDeps;

  constructor(deps: DirectorySyncDeps) {
    this.#deps = deps;
  }

  createUser(_dir: DirectoryContext, _input: DirectoryUserInput): Promise<DirectoryUserRecord> { return todo(); }
  getUser(_dir: DirectoryContext, _id: string): Promise<{ user: DirectoryUserRecord; groups: GroupRef[] }> { return todo(); }
  listUsers(_dir: DirectoryContext, _query: ListQuery, _opts: { groups: boolean }): Promise<Page<{ user: DirectoryUserRecord; groups?: GroupRef[] }>> { return todo(); }
  replaceUser(_dir: DirectoryContext, _id: string, _input: DirectoryUserInput, _ifVersion?: number): Promise<DirectoryUserRecord> { return todo(); }
  deleteUser(_dir: DirectoryContext, _id: string, _ifVersion?: number): Promise<void> { return todo(); }

  createGroup(_dir: DirectoryContext, _input: DirectoryGroupInput, _memberIds: string[]): Promise<DirectoryGroupRecord> { return todo(); }
  getGroup(_dir: DirectoryContext, _id: string, _opts: { members: boolean }): Promise<{ group: DirectoryGroupRecord; members?: MemberRef[] }> { return todo(); }
  listGroups(_dir: DirectoryContext, _query: ListQuery, _opts: { members: boolean }): Promise<Page<{ group: DirectoryGroupRecord; members?: MemberRef[] }>> { return todo(); }
  replaceGroup(_dir: DirectoryContext, _id: string, _input: DirectoryGroupInput, _memberIds: string[], _ifVersion?: number): Promise<DirectoryGroupRecord> { return todo(); }
  patchGroup(_dir: DirectoryContext, _id: string, _change: GroupChange, _ifVersion?: number): Promise<DirectoryGroupRecord> { return todo(); }
  deleteGroup(_dir: DirectoryContext, _id: string, _ifVersion?: number): Promise<void> { return todo(); }

  get deps(): DirectorySyncDeps { return this.#deps; }
}
