import type { Database } from '../../db/database.ts';
import { toDate } from '../../db/rows.ts';

// The platform operators' overview of every org (issue 8 item 5), a named cross-org read of the
// platform role (DESIGN.md, tenancy). One statement for a whole page: each column is a count or a
// time, never a secret, an email, a payload or an audit event, and certificates (public IdP
// certificates) go only to the service, which keeps their earliest expiry and drops them.

export interface PlatformOrgRow {
  id: string;
  name: string;
  slug: string;
  created_at: Date;
  billing_plan: string | null;
  billing_status: string | null;
  grace_until: Date | null;
  members: number;
  pending_invitations: number;
  sso_connections: number;
  sso_inactive: number;
  sso_plan_disabled: number;
  idp_certificates: string[];
  directories: number;
  scim_last_change_at: Date | null;
}

export interface PlatformOrgQuery {
  limit: number;
  /** The last org id of the previous page (orgs are listed by id). */
  after?: string | undefined;
  /** A part of the name or slug, case-insensitive. */
  q?: string | undefined;
}

type RawRow = Omit<PlatformOrgRow, 'created_at' | 'grace_until' | 'scim_last_change_at' | 'members' | 'pending_invitations' | 'sso_connections' | 'sso_inactive' | 'sso_plan_disabled' | 'directories'> & {
  created_at: Date | string;
  grace_until: Date | string | null;
  scim_last_change_at: Date | string | null;
} & Record<'members' | 'pending_invitations' | 'sso_connections' | 'sso_inactive' | 'sso_plan_disabled' | 'directories', string | number>;

/** `q` as a LIKE pattern that matches it literally (its own % and _ are not wildcards). */
function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// Pending invitations count as BillingRepository.seatsUsed counts them (unexpired only).
const overview = `
  SELECT o.id, o.name, o.slug, o.created_at,
         b.plan AS billing_plan, b.status AS billing_status, b.grace_until,
         (SELECT count(*) FROM memberships m WHERE m.org_id = o.id) AS members,
         (SELECT count(*) FROM invitations i WHERE i.org_id = o.id AND i.status = 'pending' AND i.expires_at > now()) AS pending_invitations,
         c.total AS sso_connections, c.inactive AS sso_inactive, c.plan_disabled AS sso_plan_disabled,
         ARRAY(SELECT jsonb_array_elements_text(cs.saml->'certificates') FROM connections cs
                WHERE cs.org_id = o.id AND cs.type = 'saml') AS idp_certificates,
         (SELECT count(*) FROM directories d WHERE d.org_id = o.id) AS directories,
         greatest((SELECT max(u.updated_at) FROM directory_users u WHERE u.org_id = o.id),
                  (SELECT max(g.updated_at) FROM directory_groups g WHERE g.org_id = o.id)) AS scim_last_change_at
    FROM organizations o
    LEFT JOIN org_billing b ON b.org_id = o.id
    CROSS JOIN LATERAL (
      SELECT count(*) AS total,
             count(*) FILTER (WHERE NOT cn.active) AS inactive,
             count(*) FILTER (WHERE cn.plan_disabled_at IS NOT NULL) AS plan_disabled
        FROM connections cn WHERE cn.org_id = o.id
    ) c`;

export class PlatformOrgsRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** A page of orgs by id, `limit + 1` rows at most (the extra one says another page exists). */
  page(query: PlatformOrgQuery): Promise<PlatformOrgRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.after) {
      where.push('o.id > ?');
      params.push(query.after);
    }
    if (query.q) {
      where.push(`(o.name ILIKE ? ESCAPE '\\' OR o.slug ILIKE ? ESCAPE '\\')`);
      params.push(containsPattern(query.q), containsPattern(query.q));
    }
    params.push(query.limit + 1);
    const sql = `${overview} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY o.id LIMIT ?`;
    return this.#db.asPlatform(async (em) => (await em.execute<RawRow[]>(sql, params)).map(toRow));
  }
}

function toRow(row: RawRow): PlatformOrgRow {
  return {
    ...row,
    created_at: toDate(row.created_at),
    grace_until: toDate(row.grace_until),
    scim_last_change_at: toDate(row.scim_last_change_at),
    members: Number(row.members),
    pending_invitations: Number(row.pending_invitations),
    sso_connections: Number(row.sso_connections),
    sso_inactive: Number(row.sso_inactive),
    sso_plan_disabled: Number(row.sso_plan_disabled),
    directories: Number(row.directories),
  };
}
