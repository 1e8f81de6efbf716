import type { Database } from '../../db/database.ts';
import { toDate } from '../../db/rows.ts';
import { Connection } from '../connections/connection.entity.ts';

// The named set of cross-org look-ups (DESIGN.md, tenancy). Each runs as gatehouse_platform,
// which row-level security lets read only the tables listed in the migration's platform_*
// policies. Anything that changes org data goes back through Database.inOrg.

export interface ApiKeyCredentialRow {
  id: string;
  org_id: string;
  org_slug: string;
  secret_hash: string;
  /** The secret a rotation replaced: still accepted until previous_secret_expires_at. */
  previous_secret_hash: string | null;
  previous_secret_expires_at: Date | null;
  key_role: string;
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  /** The creator's role in the key's org; null once they are not an active member there. */
  member_role: string | null;
  key_role_permissions: string[] | null;
  member_role_permissions: string[] | null;
  /** The workspace the key is bound to (null: not bound). */
  workspace_id: string | null;
  /** The workspaces the creator may reach (workspaceReach). */
  member_workspace_ids: string[];
}

export interface MemberCredentialRow {
  role: string;
  role_permissions: string[] | null;
  org_slug: string;
  /** The workspaces the member may reach (workspaceReach). */
  workspace_ids: string[];
}

/** A service account as the gateway needs it (no secret: the token was already issued). */
export interface ServiceAccountCredentialRow {
  id: string;
  org_id: string;
  org_slug: string;
  client_id: string;
  role: string;
  role_permissions: string[] | null;
  workspace_id: string | null;
  /** Its bound workspace, else every workspace of its org. */
  workspace_ids: string[];
}

/** Uses of API keys counted in memory since the last flush (ApiKeyUsage). */
export interface ApiKeyUsageRow {
  id: string;
  count: number;
  lastUsedAt: Date;
}

// The workspaces a member reaches (migration 0013): a limited membership reaches only those
// listed for it in workspace_members (none listed: none); any other reaches every workspace of
// the org. Used as a correlated subquery with the membership aliased m.
const workspaceReach = `CASE WHEN m.workspaces_limited
    THEN ARRAY(SELECT wm.workspace_id::text FROM workspace_members wm WHERE wm.org_id = m.org_id AND wm.user_id = m.user_id ORDER BY 1)
    ELSE ARRAY(SELECT w.id::text FROM workspaces w WHERE w.org_id = m.org_id ORDER BY 1) END`;

export interface ServiceAccountClientRow {
  id: string;
  org_id: string;
  org_slug: string;
  client_id: string;
  secret: string;
  role: string;
  role_permissions: string[] | null;
}

export interface PlatformKeyCredentialRow {
  id: string;
  secret_hash: string;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** A setup link (migration 0020) with its org and its creator's current role there. */
export interface SetupLinkCredentialRow {
  id: string;
  org_id: string;
  org_name: string;
  scope: string;
  secret_hash: string;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  /** The creator's role in the link's org; null once they are not an active member there. */
  member_role: string | null;
  member_role_permissions: string[] | null;
}

export interface GrantOrgRow {
  org_id: string;
  user_id: string;
  sso_connection_id: string | null;
  sso_org_id: string | null;
}

export interface InvitationTokenRow {
  id: string;
  org_id: string;
}

export interface DirectoryCredentialRow {
  id: string;
  org_id: string;
  default_role: string;
  token_hash: string | null;
  /** Set while the org's plan lacks SCIM (billing/plan-effects.ts). */
  plan_disabled_at: Date | string | null;
}

export class PlatformRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** An API key by its public id, with its creator's current membership in the key's org. */
  findApiKeyCredential(keyId: string): Promise<ApiKeyCredentialRow | null> {
    return this.#db.asPlatform(async (em) => {
      // A key lives only while its creator is an active member: a disabled creator has no role.
      const rows = await em.execute<ApiKeyCredentialRow[]>(
        `SELECT k.id, k.org_id, o.slug AS org_slug, k.secret_hash, k.previous_secret_hash, k.previous_secret_expires_at,
                k.role AS key_role, k.created_by, k.expires_at, k.revoked_at, k.last_used_at, k.workspace_id::text AS workspace_id,
                m.role AS member_role, kr.permissions AS key_role_permissions, mr.permissions AS member_role_permissions,
                CASE WHEN m.role IS NULL THEN '{}'::text[] ELSE ${workspaceReach} END AS member_workspace_ids
           FROM api_keys k
           JOIN organizations o ON o.id = k.org_id
           LEFT JOIN (memberships m JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL)
             ON m.org_id = k.org_id AND m.user_id = k.created_by
           LEFT JOIN roles kr ON kr.org_id = k.org_id AND kr.key = k.role
           LEFT JOIN roles mr ON mr.org_id = k.org_id AND mr.key = m.role
          WHERE k.id = ?`,
        [keyId],
      );
      const row = rows[0];
      if (!row) return null;
      return {
        ...row,
        previous_secret_expires_at: toDate(row.previous_secret_expires_at),
        expires_at: toDate(row.expires_at),
        revoked_at: toDate(row.revoked_at),
        last_used_at: toDate(row.last_used_at),
      };
    });
  }

  /** A setup link by its public id, with its org's name and its creator's current membership. */
  findSetupLinkCredential(linkId: string): Promise<SetupLinkCredentialRow | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<SetupLinkCredentialRow[]>(
        `SELECT l.id, l.org_id, o.name AS org_name, l.scope, l.secret_hash, l.expires_at, l.revoked_at, l.last_used_at,
                m.role AS member_role, mr.permissions AS member_role_permissions
           FROM setup_links l
           JOIN organizations o ON o.id = l.org_id
           LEFT JOIN (memberships m JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL)
             ON m.org_id = l.org_id AND m.user_id = l.created_by
           LEFT JOIN roles mr ON mr.org_id = l.org_id AND mr.key = m.role
          WHERE l.id = ?`, [linkId]);
      const row = rows[0];
      if (!row) return null;
      return { ...row, expires_at: toDate(row.expires_at), revoked_at: toDate(row.revoked_at), last_used_at: toDate(row.last_used_at) };
    });
  }

  /** Last-used time of a setup link, at most once a minute. */
  markSetupLinkUsed(linkId: string): Promise<void> {
    return this.#db.asPlatform(async (em) => {
      await em.execute(
        `UPDATE setup_links SET last_used_at = now()
          WHERE id = ? AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [linkId]);
    });
  }

  /**
   * Adds counted uses to API keys in one statement (ApiKeyUsage's batches, not a write per
   * request). The platform role may update only these two columns, and the gateway's triggers do
   * not fire on them, so this never empties a cache.
   */
  addApiKeyUsage(usage: readonly ApiKeyUsageRow[]): Promise<void> {
    if (usage.length === 0) return Promise.resolve();
    const values = usage.map(() => '(?, ?::bigint, ?::timestamptz)').join(', ');
    const params = usage.flatMap((u) => [u.id, u.count, u.lastUsedAt.toISOString()]);
    return this.#db.asPlatform(async (em) => {
      await em.execute(
        `UPDATE api_keys k SET usage_count = k.usage_count + v.n,
                last_used_at = greatest(k.last_used_at, v.at)
           FROM (VALUES ${values}) AS v(id, n, at)
          WHERE k.id = v.id`,
        params,
      );
    });
  }

  /** The invitation a one-time token belongs to, in whichever org. */
  findInvitationByTokenHash(tokenHash: string): Promise<InvitationTokenRow | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<InvitationTokenRow[]>(
        'SELECT id, org_id FROM invitations WHERE token_hash = ?',
        [tokenHash],
      );
      return rows[0] ?? null;
    });
  }

  /** An active service account by client id, with its org and role, for the issuer. */
  findServiceAccountClient(clientId: string): Promise<ServiceAccountClientRow | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<ServiceAccountClientRow[]>(
        `SELECT s.id, s.org_id, o.slug AS org_slug, s.client_id, s.secret, s.role, r.permissions AS role_permissions
           FROM service_accounts s
           JOIN organizations o ON o.id = s.org_id
           LEFT JOIN roles r ON r.org_id = s.org_id AND r.key = s.role
          WHERE s.client_id = ? AND s.revoked_at IS NULL`,
        [clientId],
      );
      return rows[0] ?? null;
    });
  }

  /** An active service account by client id, with its role and workspace reach, for the gateway. */
  findServiceAccountCredential(clientId: string): Promise<ServiceAccountCredentialRow | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<ServiceAccountCredentialRow[]>(
        `SELECT s.id, s.org_id, o.slug AS org_slug, s.client_id, s.role, r.permissions AS role_permissions,
                s.workspace_id::text AS workspace_id,
                CASE WHEN s.workspace_id IS NOT NULL THEN ARRAY[s.workspace_id::text]
                     ELSE ARRAY(SELECT w.id::text FROM workspaces w WHERE w.org_id = s.org_id ORDER BY 1) END AS workspace_ids
           FROM service_accounts s
           JOIN organizations o ON o.id = s.org_id
           LEFT JOIN roles r ON r.org_id = s.org_id AND r.key = s.role
          WHERE s.client_id = ? AND s.revoked_at IS NULL`,
        [clientId],
      );
      return rows[0] ?? null;
    });
  }

  /**
   * The org a user's OIDC grant acts in, and the org whose SSO connection its sign-in went
   * through (null: not an SSO sign-in, or that connection is gone).
   */
  findGrantOrg(grantId: string): Promise<GrantOrgRow | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<GrantOrgRow[]>(
        `SELECT g.org_id, g.user_id, g.sso_connection_id, c.org_id AS sso_org_id
           FROM oidc_grant_orgs g LEFT JOIN connections c ON c.id = g.sso_connection_id
          WHERE g.grant_id = ?`, [grantId]);
      return rows[0] ?? null;
    });
  }

  /**
   * SSO enforcement: whether `orgId` accepts this user only through its own SSO connections
   * (enforcement is on and the user's email is in one of the org's verified domains).
   */
  ssoRequired(orgId: string, userId: string): Promise<boolean> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute(
        `SELECT 1 FROM organizations o
           JOIN users u ON u.id = ?
           JOIN domains d ON d.org_id = o.id AND d.verified_at IS NOT NULL AND d.domain = split_part(lower(u.email), '@', 2)
          WHERE o.id = ? AND o.sso_enforced
            -- a plan without SSO (its connections plan-disabled) must not lock everyone out
            AND NOT EXISTS (SELECT 1 FROM connections c WHERE c.org_id = o.id AND c.plan_disabled_at IS NOT NULL)`, [userId, orgId]);
      return rows.length > 0;
    });
  }

  /** Every org a user belongs to (the org step of sign-in), by name. */
  orgsOfUser(userId: string): Promise<{ id: string; slug: string; name: string }[]> {
    return this.#db.asPlatform((em) => em.execute<{ id: string; slug: string; name: string }[]>(
      `SELECT o.id, o.slug, o.name FROM memberships m JOIN organizations o ON o.id = m.org_id
        WHERE m.user_id = ? ORDER BY o.name, o.id`, [userId]));
  }

  /**
   * A user's current role (and its permissions), org slug and workspace reach in an org, for a
   * bearer access token; none once the user is disabled.
   */
  findMemberCredential(orgId: string, userId: string): Promise<MemberCredentialRow | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<MemberCredentialRow[]>(
        `SELECT m.role, r.permissions AS role_permissions, o.slug AS org_slug, ${workspaceReach} AS workspace_ids
           FROM memberships m
           JOIN users u ON u.id = m.user_id AND u.disabled_at IS NULL
           JOIN organizations o ON o.id = m.org_id
           LEFT JOIN roles r ON r.org_id = m.org_id AND r.key = m.role
          WHERE m.org_id = ? AND m.user_id = ?`, [orgId, userId]);
      return rows[0] ?? null;
    });
  }

  // Platform API keys (migration 0010): the request role has no privilege on the table, so these
  // four are the only code that reads or writes it.

  /** A platform key by its public id. */
  findPlatformKeyCredential(keyId: string): Promise<PlatformKeyCredentialRow | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<PlatformKeyCredentialRow[]>(
        'SELECT id, secret_hash, last_used_at, revoked_at FROM platform_api_keys WHERE id = ?', [keyId]);
      const row = rows[0];
      return row ? { ...row, last_used_at: toDate(row.last_used_at), revoked_at: toDate(row.revoked_at) } : null;
    });
  }

  /** Last-used time, at most once a minute per key, as for org keys. */
  markPlatformKeyUsed(keyId: string): Promise<void> {
    return this.#db.asPlatform(async (em) => {
      await em.execute(
        `UPDATE platform_api_keys SET last_used_at = now()
          WHERE id = ? AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [keyId],
      );
    });
  }

  /** Stores a new platform key (the CLI); only the hash of its secret. */
  createPlatformKey(key: { id: string; name: string; secretHash: string }): Promise<void> {
    return this.#db.asPlatform(async (em) => {
      await em.execute('INSERT INTO platform_api_keys (id, name, secret_hash) VALUES (?, ?, ?)', [key.id, key.name, key.secretHash]);
    });
  }

  /** Revokes an active platform key (the CLI); false when there is no such active key. */
  revokePlatformKey(keyId: string): Promise<boolean> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<{ id: string }[]>(
        'UPDATE platform_api_keys SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL RETURNING id', [keyId]);
      return rows.length === 1;
    });
  }

  /** An org's slug by its id (null: no such org). */
  orgSlug(orgId: string): Promise<string | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<{ slug: string }[]>('SELECT slug FROM organizations WHERE id = ?', [orgId]);
      return rows[0]?.slug ?? null;
    });
  }

  /** An SSO connection by id, whatever its org: the ACS and callbacks know only the connection. */
  findConnection(id: string): Promise<Connection | null> {
    return this.#db.asPlatform((em) => em.findOne(Connection, { id }, { filters: false }));
  }

  /**
   * Home-realm discovery: the active connections of the org that holds `domain` verified (at
   * most one org can), with the org's name for a chooser.
   */
  connectionsForDomain(domain: string): Promise<{ id: string; name: string; type: string; org_id: string; org_name: string }[]> {
    return this.#db.asPlatform((em) => em.execute(
      `SELECT c.id, c.name, c.type, c.org_id, o.name AS org_name
         FROM domains d
         JOIN connections c ON c.org_id = d.org_id AND c.active AND c.plan_disabled_at IS NULL
         JOIN organizations o ON o.id = d.org_id
        WHERE d.domain = ? AND d.verified_at IS NOT NULL
        ORDER BY c.created_at, c.id`,
      [domain],
    ));
  }

  /**
   * A SCIM directory's org, default role and current token hash (null once revoked): a SCIM
   * request names a directory, not an org, and its token proves which (migration 0012).
   */
  findDirectoryCredential(directoryId: string): Promise<DirectoryCredentialRow | null> {
    return this.#db.asPlatform(async (em) => {
      const rows = await em.execute<DirectoryCredentialRow[]>(
        'SELECT id, org_id, default_role, token_hash, plan_disabled_at FROM directories WHERE id = ?', [directoryId]);
      return rows[0] ?? null;
    });
  }

  /** Every SAML connection, with its metadata URL if it has one: the refresher's round (metadata, certificate expiry). */
  samlConnectionsForRefresh(): Promise<{ id: string; org_id: string; metadata_url: string | null }[]> {
    return this.#db.asPlatform((em) => em.execute(
      `SELECT id, org_id, saml->>'metadataUrl' AS metadata_url FROM connections WHERE type = 'saml' ORDER BY id`,
    ));
  }
}
