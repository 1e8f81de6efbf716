import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// Tenancy lock 4 (DESIGN.md): every org-owned table has ENABLE + FORCE row-level security with a
// policy on the transaction-local setting app.org_id. Requests run as gatehouse_app, which owns
// no table; the few cross-org look-ups run as gatehouse_platform, which may only read (and mark
// API keys used) through the policies named platform_*.
const orgTables = ['memberships', 'roles', 'invitations', 'teams', 'team_members', 'api_keys', 'audit_events', 'audit_chain_heads'];
const mutableOrgTables = orgTables.filter((t) => t !== 'audit_events');

export class Foundation extends Migration {
  #sql(script: string): void {
    for (const statement of statements(script)) this.addSql(statement);
  }

  override name = '0001-foundation';

  override up(): void {
    this.addSql(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gatehouse_app') THEN
          CREATE ROLE gatehouse_app NOLOGIN NOBYPASSRLS;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gatehouse_platform') THEN
          CREATE ROLE gatehouse_platform NOLOGIN NOBYPASSRLS;
        END IF;
        -- the login role switches to these per transaction; a superuser may already.
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          EXECUTE format('GRANT gatehouse_app, gatehouse_platform TO %I', current_user);
        END IF;
      END $$`);

    this.addSql(`
      CREATE FUNCTION gatehouse_current_org() RETURNS uuid LANGUAGE sql STABLE AS
        $$ SELECT nullif(current_setting('app.org_id', true), '')::uuid $$`);

    this.#sql(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        name text,
        password_hash text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX users_email_key ON users (lower(email));

      CREATE TABLE organizations (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text NOT NULL UNIQUE,
        kind text NOT NULL CHECK (kind IN ('team', 'personal')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE memberships (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
        role text NOT NULL,
        source text NOT NULL CHECK (source IN ('invite', 'sso', 'scim', 'domain', 'bootstrap', 'created', 'signup')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (org_id, user_id)
      );
      CREATE INDEX memberships_page ON memberships (org_id, id);
      CREATE INDEX memberships_user ON memberships (user_id);
      -- exactly one owner per org: a second owner row is refused by the database itself.
      CREATE UNIQUE INDEX memberships_one_owner ON memberships (org_id) WHERE role = 'owner';

      CREATE TABLE roles (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        description text,
        permissions text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (org_id, key)
      );

      CREATE TABLE invitations (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
        email text NOT NULL,
        role text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        status text NOT NULL CHECK (status IN ('pending', 'accepted', 'expired', 'cancelled')),
        invited_by uuid REFERENCES users ON DELETE SET NULL,
        accepted_by uuid REFERENCES users ON DELETE SET NULL,
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        -- wrong passwords for the invitee's existing account: a guessing brake (retired at 5).
        failed_attempts int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX invitations_page ON invitations (org_id, id);
      CREATE UNIQUE INDEX invitations_one_pending ON invitations (org_id, lower(email)) WHERE status = 'pending';

      CREATE TABLE teams (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
        name text NOT NULL,
        description text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX teams_name_key ON teams (org_id, lower(name));
      CREATE INDEX teams_page ON teams (org_id, id);

      CREATE TABLE team_members (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        team_id uuid NOT NULL REFERENCES teams ON DELETE CASCADE,
        user_id uuid NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (team_id, user_id),
        -- a team member is always a member of the org; leaving the org leaves its teams.
        FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
      );
      CREATE INDEX team_members_page ON team_members (team_id, id);

      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
        name text NOT NULL,
        role text NOT NULL,
        secret_hash text NOT NULL,
        created_by uuid NOT NULL REFERENCES users ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      CREATE INDEX api_keys_page ON api_keys (org_id, id);

      CREATE TABLE audit_chain_heads (
        org_id uuid PRIMARY KEY REFERENCES organizations ON DELETE CASCADE,
        seq bigint NOT NULL,
        hash text NOT NULL
      );

      CREATE TABLE audit_events (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
        seq bigint NOT NULL,
        type text NOT NULL,
        actor_type text NOT NULL,
        actor_id text,
        target_type text,
        target_id text,
        ip text,
        user_agent text,
        request_id text,
        before jsonb,
        after jsonb,
        occurred_at timestamptz NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        UNIQUE (org_id, seq)
      );
      CREATE INDEX audit_events_type ON audit_events (org_id, type, seq);
      CREATE INDEX audit_events_target ON audit_events (org_id, target_id, seq);
      CREATE INDEX audit_events_actor ON audit_events (org_id, actor_id, seq);

      -- platform-wide mail queue: rows carry no org and are sent by the platform dispatcher.
      CREATE TABLE outbox_messages (
        id uuid PRIMARY KEY,
        recipient text NOT NULL,
        subject text NOT NULL,
        body text,
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        available_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      );
      -- the dispatcher's poll: sent and failed rows stay, so it must not scan them.
      CREATE INDEX outbox_messages_due ON outbox_messages (available_at) WHERE status = 'pending'`);

    this.#sql(`
      GRANT SELECT, INSERT, UPDATE ON users TO gatehouse_app;
      GRANT SELECT ON users TO gatehouse_platform;
      GRANT SELECT, INSERT, UPDATE, DELETE ON organizations, ${mutableOrgTables.join(', ')} TO gatehouse_app;
      -- the audit trail is append-only for the service.
      GRANT SELECT, INSERT ON audit_events TO gatehouse_app;
      GRANT INSERT ON outbox_messages TO gatehouse_app;
      GRANT SELECT, UPDATE ON outbox_messages TO gatehouse_platform;
      GRANT SELECT ON organizations, memberships, roles, invitations, api_keys TO gatehouse_platform;
      GRANT UPDATE (last_used_at) ON api_keys TO gatehouse_platform`);

    this.#sql(`
      ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
      ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
      CREATE POLICY org_isolation ON organizations TO gatehouse_app
        USING (id = gatehouse_current_org()) WITH CHECK (id = gatehouse_current_org())`);
    for (const table of orgTables) {
      for (const statement of orgTableSecurity(table, { platformRead: false })) this.addSql(statement);
    }
    for (const table of ['organizations', 'memberships', 'roles', 'invitations', 'api_keys']) {
      this.addSql(`CREATE POLICY platform_read ON ${table} FOR SELECT TO gatehouse_platform USING (true)`);
    }
    this.addSql(`CREATE POLICY platform_mark_used ON api_keys FOR UPDATE TO gatehouse_platform USING (true) WITH CHECK (true)`);
  }
}
