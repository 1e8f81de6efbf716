import type { EntityManager } from '@mikro-orm/sql';
import { toDate } from '../../db/rows.ts';
import type { DirectoryGroupInput, DirectoryGroupRecord, MemberRef, Page } from './directory-records.ts';
import { bind, sql, type SqlFragment } from './sql-fragment.ts';

interface GroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'g.id, g.display_name, g.external_id, g.version, g.created_at, g.updated_at';

function toRecord(r: GroupRow): DirectoryGroupRecord {
  return { id: r.id, displayName: r.display_name, externalId: r.external_id, version: r.version, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at) };
}

const ids = (rows: { directory_user_id: string }[]) => rows.map((r) => r.directory_user_id);

/**
 * directory_groups and their members. Every membership change is one statement over the ids it
 * names (RFC 7644 §3.5.2 PATCH of `members`): its cost follows the ids, never the group's size.
 */
export class DirectoryGroupsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async insert(keys: { id: string; orgId: string; directoryId: string }, input: DirectoryGroupInput): Promise<DirectoryGroupRecord> {
    const rows = await this.#em.execute<GroupRow[]>(
      `INSERT INTO directory_groups AS g (id, org_id, directory_id, display_name, external_id) VALUES (?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
      [keys.id, keys.orgId, keys.directoryId, input.displayName, input.externalId],
    );
    return toRecord(rows[0]!);
  }

  async find(directoryId: string, id: string, lock = false): Promise<DirectoryGroupRecord | null> {
    const rows = await this.#em.execute<GroupRow[]>(
      `SELECT ${COLUMNS} FROM directory_groups g WHERE g.directory_id = ? AND g.id = ?::uuid${lock ? ' FOR UPDATE' : ''}`, [directoryId, id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Sets the name and external id; the version moves on (a member change is a change of the group too). */
  async update(id: string, input: DirectoryGroupInput): Promise<DirectoryGroupRecord> {
    const rows = await this.#em.execute<GroupRow[]>(
      `UPDATE directory_groups g SET display_name = ?, external_id = ?, version = version + 1, updated_at = now() WHERE g.id = ? RETURNING ${COLUMNS}`,
      [input.displayName, input.externalId, id],
    );
    return toRecord(rows[0]!);
  }

  /** Members and rules go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<void> {
    await this.#em.execute('DELETE FROM directory_groups WHERE id = ?', [id]);
  }

  /** Adds the ids not yet members; returns those added. */
  async addMembers(orgId: string, groupId: string, userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    return ids(await this.#em.execute<{ directory_user_id: string }[]>(
      `INSERT INTO directory_group_members (org_id, group_id, directory_user_id)
       SELECT ?, ?, x FROM unnest(ARRAY[?]::uuid[]) AS x ON CONFLICT DO NOTHING RETURNING directory_user_id`,
      [orgId, groupId, userIds]));
  }

  /** Removes those of the ids that are members; returns them. */
  async removeMembers(groupId: string, userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    return ids(await this.#em.execute<{ directory_user_id: string }[]>(
      'DELETE FROM directory_group_members WHERE group_id = ? AND directory_user_id = ANY(ARRAY[?]::uuid[]) RETURNING directory_user_id',
      [groupId, userIds]));
  }

  /** Removes every member but `keep` (all of them when it is empty); returns those removed. */
  async removeAllBut(groupId: string, keep: string[]): Promise<string[]> {
    const rows = keep.length === 0
      ? await this.#em.execute<{ directory_user_id: string }[]>('DELETE FROM directory_group_members WHERE group_id = ? RETURNING directory_user_id', [groupId])
      : await this.#em.execute<{ directory_user_id: string }[]>(
        'DELETE FROM directory_group_members WHERE group_id = ? AND NOT (directory_user_id = ANY(ARRAY[?]::uuid[])) RETURNING directory_user_id', [groupId, keep]);
    return ids(rows);
  }

  async memberIds(groupId: string): Promise<string[]> {
    return ids(await this.#em.execute<{ directory_user_id: string }[]>('SELECT directory_user_id FROM directory_group_members WHERE group_id = ?', [groupId]));
  }

  /** The teams this group's rules name, and whether it has any rule at all (one indexed look-up). */
  async rulesOf(groupId: string): Promise<{ any: boolean; teamIds: string[] }> {
    const rows = await this.#em.execute<{ team_id: string | null }[]>('SELECT team_id FROM directory_group_rules WHERE group_id = ?', [groupId]);
    return { any: rows.length > 0, teamIds: rows.flatMap((r) => (r.team_id ? [r.team_id] : [])) };
  }

  async page(directoryId: string, where: SqlFragment, startIndex: number, count: number): Promise<Page<DirectoryGroupRecord>> {
    const scoped = sql`g.directory_id = ${bind(directoryId)} AND ${where}`;
    const [{ n }] = await this.#em.execute<[{ n: number }]>(`SELECT count(*)::int AS n FROM directory_groups g WHERE ${scoped.sql}`, scoped.params);
    if (count === 0 || n < startIndex) return { totalResults: n, items: [] };
    const rows = await this.#em.execute<GroupRow[]>(
      `SELECT ${COLUMNS} FROM directory_groups g WHERE ${scoped.sql} ORDER BY g.id LIMIT ? OFFSET ?`, [...scoped.params, count, startIndex - 1]);
    return { totalResults: n, items: rows.map(toRecord) };
  }

  /** The members of each of these groups. */
  async membersOf(groupIds: string[]): Promise<Map<string, MemberRef[]>> {
    const out = new Map<string, MemberRef[]>(groupIds.map((id) => [id, []]));
    if (groupIds.length === 0) return out;
    const rows = await this.#em.execute<{ group_id: string; id: string; user_name: string }[]>(
      `SELECT gm.group_id, du.id, du.user_name FROM directory_group_members gm JOIN directory_users du ON du.id = gm.directory_user_id
        WHERE gm.group_id = ANY(ARRAY[?]::uuid[]) ORDER BY du.id`, [groupIds]);
    for (const r of rows) out.get(r.group_id)?.push({ id: r.id, userName: r.user_name });
    return out;
  }
}
