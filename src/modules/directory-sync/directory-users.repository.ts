import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { toDate } from '../../db/rows.ts';
import type { DirectoryUserInput, DirectoryUserRecord, GroupRef, Page } from './directory-records.ts';
import { bind, sql, type SqlFragment } from './sql-fragment.ts';

interface UserRow {
  id: string;
  user_id: string;
  user_name: string;
  external_id: string | null;
  email: string | null;
  active: boolean;
  display_name: string | null;
  given_name: string | null;
  family_name: string | null;
  resource: Record<string, unknown> | string;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = 'du.id, du.user_id, du.user_name, du.external_id, du.email, du.active, du.display_name, du.given_name, du.family_name, du.resource, du.version, du.created_at, du.updated_at';

function toRecord(r: UserRow): DirectoryUserRecord {
  return {
    id: r.id, userId: r.user_id, userName: r.user_name, externalId: r.external_id, email: r.email, active: r.active,
    displayName: r.display_name, givenName: r.given_name, familyName: r.family_name,
    resource: typeof r.resource === 'string' ? JSON.parse(r.resource) as Record<string, unknown> : r.resource,
    version: r.version, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
  };
}

function values(input: DirectoryUserInput): unknown[] {
  return [input.userName, input.externalId, input.email?.toLowerCase() ?? null, input.active, input.displayName, input.givenName, input.familyName, JSON.stringify(input.resource)];
}

/** directory_users, in the directory's org transaction (row-level security admits that org's rows only). */
export class DirectoryUsersRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /**
   * Whether the org verified the address's domain, and the accounts the address could link to:
   * the person's own, and the one this org manages (one round trip; users are global rows).
   */
  async linkCandidates(orgId: string, email: string): Promise<{ verified: boolean; ownId: string | null; managedId: string | null }> {
    const domain = email.slice(email.lastIndexOf('@') + 1);
    const rows = await this.#em.execute<{ verified: boolean; id: string | null; managed_by_org_id: string | null }[]>(
      `SELECT EXISTS (SELECT 1 FROM domains WHERE org_id = ? AND domain = ? AND verified_at IS NOT NULL) AS verified, u.id, u.managed_by_org_id
         FROM (SELECT 1) one
         LEFT JOIN users u ON lower(u.email) = ? AND (u.managed_by_org_id IS NULL OR u.managed_by_org_id = ?)`,
      [orgId, domain, email, orgId]);
    return {
      verified: rows[0]?.verified === true,
      ownId: rows.find((r) => r.id && r.managed_by_org_id === null)?.id ?? null,
      managedId: rows.find((r) => r.id && r.managed_by_org_id === orgId)?.id ?? null,
    };
  }

  /**
   * The directory user and, when `role` is given, the person's membership if they have none
   * (source scim), in one statement; `memberRole` is the role of a membership made here, null if
   * none was (inactive, or one existed and is kept).
   */
  async insert(ids: { id: string; orgId: string; directoryId: string; userId: string }, input: DirectoryUserInput, role: string | null): Promise<{ user: DirectoryUserRecord; memberRole: string | null }> {
    const rows = await this.#em.execute<(UserRow & { member_role: string | null })[]>(
      `WITH du AS (
         INSERT INTO directory_users AS du (id, org_id, directory_id, user_id, user_name, external_id, email, active, display_name, given_name, family_name, resource)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb) RETURNING ${COLUMNS}),
       m AS (
         INSERT INTO memberships (id, org_id, user_id, role, source) SELECT ?, ?, du.user_id, ?, 'scim' FROM du WHERE ?::text IS NOT NULL
         ON CONFLICT (org_id, user_id) DO NOTHING RETURNING role)
       SELECT du.*, (SELECT role FROM m) AS member_role FROM du`,
      [ids.id, ids.orgId, ids.directoryId, ids.userId, ...values(input), uuidv7(), ids.orgId, role, role],
    );
    const row = rows[0]!;
    return { user: toRecord(row), memberRole: row.member_role };
  }

  /** `lock`: held until the transaction ends, so two changes of one user apply one after the other. */
  async find(directoryId: string, id: string, lock = false): Promise<DirectoryUserRecord | null> {
    const rows = await this.#em.execute<UserRow[]>(
      `SELECT ${COLUMNS} FROM directory_users du WHERE du.directory_id = ? AND du.id = ?::uuid${lock ? ' FOR UPDATE' : ''}`, [directoryId, id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Replaces the columns and the resource; the version moves on. */
  async update(id: string, input: DirectoryUserInput): Promise<DirectoryUserRecord> {
    const rows = await this.#em.execute<UserRow[]>(
      `UPDATE directory_users du SET user_name = ?, external_id = ?, email = ?, active = ?, display_name = ?, given_name = ?, family_name = ?,
         resource = ?::jsonb, version = version + 1, updated_at = now()
       WHERE du.id = ? RETURNING ${COLUMNS}`,
      [...values(input), id],
    );
    return toRecord(rows[0]!);
  }

  /** Its group memberships go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<void> {
    await this.#em.execute('DELETE FROM directory_users WHERE id = ?', [id]);
  }

  /** Which of `ids` are not users of this directory (anything that is not a UUID is not one). */
  async missing(directoryId: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.#em.execute<{ id: string }[]>(
      'SELECT id::text AS id FROM directory_users WHERE directory_id = ? AND id = ANY(ARRAY[?]::uuid[])', [directoryId, ids]);
    const found = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !found.has(id));
  }

  /** One page in id order and the count of all matches, both under the same WHERE. */
  async page(directoryId: string, where: SqlFragment, startIndex: number, count: number): Promise<Page<DirectoryUserRecord>> {
    const scoped = sql`du.directory_id = ${bind(directoryId)} AND ${where}`;
    const [{ n }] = await this.#em.execute<[{ n: number }]>(`SELECT count(*)::int AS n FROM directory_users du WHERE ${scoped.sql}`, scoped.params);
    if (count === 0 || n < startIndex) return { totalResults: n, items: [] };
    const rows = await this.#em.execute<UserRow[]>(
      `SELECT ${COLUMNS} FROM directory_users du WHERE ${scoped.sql} ORDER BY du.id LIMIT ? OFFSET ?`, [...scoped.params, count, startIndex - 1]);
    return { totalResults: n, items: rows.map(toRecord) };
  }

  /** The groups of each of these directory users (RFC 7643 §4.1.2 `groups`). */
  async groupsOf(ids: string[]): Promise<Map<string, GroupRef[]>> {
    const out = new Map<string, GroupRef[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const rows = await this.#em.execute<{ directory_user_id: string; id: string; display_name: string }[]>(
      `SELECT gm.directory_user_id, g.id, g.display_name FROM directory_group_members gm JOIN directory_groups g ON g.id = gm.group_id
        WHERE gm.directory_user_id = ANY(ARRAY[?]::uuid[]) ORDER BY g.id`, [ids]);
    for (const r of rows) out.get(r.directory_user_id)?.push({ id: r.id, displayName: r.display_name });
    return out;
  }
}
