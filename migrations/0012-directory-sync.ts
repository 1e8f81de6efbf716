import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// SCIM 2.0 directory sync (issue 5; DESIGN.md, identity model).
// - directories: an org's SCIM endpoint. The bearer token is stored only as its keyed hash (as API
//   keys are: src/modules/api-keys/api-key-token.ts); null once revoked. The platform role
//   reads the table: a SCIM request names a directory, not an org, and the token proves which.
// - directory_users: a person as the org's IdP describes them, linked to a Gatehouse user. The
//   columns SCIM clients filter on are columns (indexed); the rest of the resource is `resource`.
//   One person appears at most once per org across its directories (a membership has one source
//   of truth). `active` false means the membership is suspended (removed, and restored on
//   reactivation).
// - user_name_lower and display_name_lower: the case-insensitive look-ups (RFC 7643 userName
//   and displayName are caseExact false) compare these stored columns, not lower(column): under
//   row-level security PostgreSQL uses an index only for leakproof conditions, and lower() is
//   not one, so an index on lower(user_name) would never serve a look-up by the app role.
// - directory_groups and directory_group_members: groups as pushed, membership by directory
//   user, so adding or removing N members touches N rows whatever the group's size.
// - directory_group_rules: group → role and group → team, per directory.
const script = `
  CREATE TABLE directories (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    name text NOT NULL,
    default_role text NOT NULL,
    token_hash text UNIQUE,
    token_created_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX directories_org ON directories (org_id, id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON directories TO gatehouse_app;

  CREATE TABLE directory_users (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    directory_id uuid NOT NULL REFERENCES directories ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    user_name text NOT NULL,
    user_name_lower text NOT NULL GENERATED ALWAYS AS (lower(user_name)) STORED,
    external_id text,
    email text CHECK (email = lower(email)),
    active boolean NOT NULL DEFAULT true,
    display_name text,
    given_name text,
    family_name text,
    resource jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, user_id)
  );
  CREATE UNIQUE INDEX directory_users_user_name ON directory_users (directory_id, user_name_lower);
  CREATE INDEX directory_users_page ON directory_users (directory_id, id);
  CREATE INDEX directory_users_external_id ON directory_users (directory_id, external_id);
  CREATE INDEX directory_users_email ON directory_users (directory_id, email);
  CREATE INDEX directory_users_emails ON directory_users USING gin ((resource -> 'emails') jsonb_path_ops);
  CREATE INDEX directory_users_user ON directory_users (user_id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON directory_users TO gatehouse_app;

  CREATE TABLE directory_groups (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    directory_id uuid NOT NULL REFERENCES directories ON DELETE CASCADE,
    display_name text NOT NULL,
    display_name_lower text NOT NULL GENERATED ALWAYS AS (lower(display_name)) STORED,
    external_id text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX directory_groups_page ON directory_groups (directory_id, id);
  CREATE INDEX directory_groups_display_name ON directory_groups (directory_id, display_name_lower);
  CREATE INDEX directory_groups_external_id ON directory_groups (directory_id, external_id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON directory_groups TO gatehouse_app;

  CREATE TABLE directory_group_members (
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    group_id uuid NOT NULL REFERENCES directory_groups ON DELETE CASCADE,
    directory_user_id uuid NOT NULL REFERENCES directory_users ON DELETE CASCADE,
    PRIMARY KEY (group_id, directory_user_id)
  );
  CREATE INDEX directory_group_members_user ON directory_group_members (directory_user_id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON directory_group_members TO gatehouse_app;

  CREATE TABLE directory_group_rules (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    directory_id uuid NOT NULL REFERENCES directories ON DELETE CASCADE,
    group_id uuid NOT NULL REFERENCES directory_groups ON DELETE CASCADE,
    role text,
    team_id uuid REFERENCES teams ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((role IS NULL) <> (team_id IS NULL)),
    UNIQUE (group_id, role),
    UNIQUE (group_id, team_id)
  );
  CREATE INDEX directory_group_rules_directory ON directory_group_rules (directory_id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON directory_group_rules TO gatehouse_app;
`;

export class DirectorySync extends Migration {
  override name = '0012-directory-sync';

  override up(): void {
    const security = [
      ...orgTableSecurity('directories', { platformRead: true }),
      ...['directory_users', 'directory_groups', 'directory_group_members', 'directory_group_rules'].flatMap((t) => orgTableSecurity(t, { platformRead: false })),
    ];
    for (const statement of [...statements(script), ...security]) this.addSql(statement);
  }
}
