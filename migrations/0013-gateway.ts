import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// The identity-aware gateway (issue 6; DESIGN.md, gateway/).
// - workspaces: an org's environments (production, staging). An API key or a service account may
//   be bound to one; deleting the workspace deletes the credentials bound to it (never widens them
//   to the whole org). A member whose membership is `workspaces_limited` reaches only the
//   workspaces listed in workspace_members (none listed: none), so removing a workspace from a
//   limited member never widens their reach either.
// - api_keys gain rotation (the previous secret stays valid until previous_secret_expires_at),
//   a bound workspace and a usage count that the gateway adds to in batches.
// - Revocation everywhere at once: every change that could make a cached credential wrong sends
//   a notification on `gatehouse_gateway` from a trigger, in the changing transaction, so no code
//   path (member removal, SCIM suspension, role edits, user disable, key rotation) can forget to.
//   Payloads: member:<org>:<user>, key:<api key id>, sa:<client id>, org:<org>, user:<user>, keys.
//   Usage counts and last-used times are not changes of that kind and send nothing.
const script = `
  CREATE TABLE workspaces (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id)
  );
  CREATE UNIQUE INDEX workspaces_name ON workspaces (org_id, lower(name));
  GRANT SELECT, INSERT, UPDATE, DELETE ON workspaces TO gatehouse_app;

  ALTER TABLE memberships ADD COLUMN workspaces_limited boolean NOT NULL DEFAULT false;

  CREATE TABLE workspace_members (
    org_id uuid NOT NULL,
    workspace_id uuid NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id),
    FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id) ON DELETE CASCADE
  );
  CREATE INDEX workspace_members_user ON workspace_members (org_id, user_id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON workspace_members TO gatehouse_app;

  ALTER TABLE api_keys
    ADD COLUMN workspace_id uuid,
    ADD COLUMN previous_secret_hash text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    ADD COLUMN rotated_at timestamptz,
    ADD COLUMN usage_count bigint NOT NULL DEFAULT 0,
    ADD FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE;
  GRANT UPDATE (usage_count) ON api_keys TO gatehouse_platform;

  ALTER TABLE service_accounts
    ADD COLUMN workspace_id uuid,
    ADD FOREIGN KEY (org_id, workspace_id) REFERENCES workspaces (org_id, id) ON DELETE CASCADE
`;

// One function per payload shape: plpgsql resolves a record's fields when a statement first runs,
// so one CASE over TG_TABLE_NAME fails on the tables that lack a field another branch names.
const notifyFunctions = [
  ['gatehouse_gateway_notify_member', `'member:' || r.org_id || ':' || r.user_id`],
  ['gatehouse_gateway_notify_key', `'key:' || r.id`],
  ['gatehouse_gateway_notify_sa', `'sa:' || r.client_id`],
  ['gatehouse_gateway_notify_org', `'org:' || r.org_id`],
  ['gatehouse_gateway_notify_org_row', `'org:' || r.id`],
  ['gatehouse_gateway_notify_user', `'user:' || r.id`],
  ['gatehouse_gateway_notify_keys', `'keys'`],
].map(([name, payload]) => `
  CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  BEGIN
    PERFORM pg_notify('gatehouse_gateway', ${payload});
    RETURN NULL;
  END $$`);

const triggers = [
  `CREATE TRIGGER gateway_notify AFTER INSERT OR UPDATE OR DELETE ON memberships FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_member()`,
  `CREATE TRIGGER gateway_notify AFTER INSERT OR DELETE ON workspace_members FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_member()`,
  // Not on usage_count or last_used_at: the gateway's own bookkeeping must not empty its caches.
  `CREATE TRIGGER gateway_notify AFTER UPDATE OF role, secret_hash, expires_at, revoked_at, workspace_id, previous_secret_hash, previous_secret_expires_at
     ON api_keys FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_key()`,
  `CREATE TRIGGER gateway_notify_delete AFTER DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_key()`,
  `CREATE TRIGGER gateway_notify AFTER UPDATE OR DELETE ON service_accounts FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_sa()`,
  `CREATE TRIGGER gateway_notify AFTER INSERT OR UPDATE OR DELETE ON roles FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_org()`,
  `CREATE TRIGGER gateway_notify AFTER INSERT OR DELETE ON workspaces FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_org()`,
  `CREATE TRIGGER gateway_notify AFTER UPDATE OF slug OR DELETE ON organizations FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_org_row()`,
  `CREATE TRIGGER gateway_notify AFTER UPDATE OF disabled_at OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_user()`,
  `CREATE TRIGGER gateway_notify AFTER INSERT OR UPDATE OR DELETE ON signing_keys FOR EACH ROW EXECUTE FUNCTION gatehouse_gateway_notify_keys()`,
];

export class Gateway extends Migration {
  override name = '0013-gateway';

  override up(): void {
    const security = [
      ...orgTableSecurity('workspaces', { platformRead: true }),
      ...orgTableSecurity('workspace_members', { platformRead: true }),
    ];
    for (const statement of [...statements(script), ...security, ...notifyFunctions, ...triggers]) this.addSql(statement);
  }
}
