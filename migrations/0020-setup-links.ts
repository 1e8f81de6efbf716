import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// Setup links (issue 8, item 3): an org admin hands a customer's IT admin a time-limited link
// (ghs_<id>_<secret>) that configures only the org's SSO and/or SCIM. Org-owned like api_keys:
// the request role sees its own org's rows only; the authenticator finds a link by its public id
// through the platform repository (read, and the last-used mark), as it finds API keys. Only a
// keyed hash of the secret is kept.
const script = `
  CREATE TABLE setup_links (
    id text PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    scope text NOT NULL CHECK (scope IN ('sso', 'scim', 'both')),
    secret_hash text NOT NULL,
    created_by uuid NOT NULL REFERENCES users,
    note text,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    last_used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX setup_links_page ON setup_links (org_id, id);
  GRANT SELECT, INSERT, UPDATE ON setup_links TO gatehouse_app;
  GRANT UPDATE (last_used_at) ON setup_links TO gatehouse_platform
`;

export class SetupLinks extends Migration {
  override name = '0020-setup-links';

  override up(): void {
    for (const statement of [
      ...statements(script),
      ...orgTableSecurity('setup_links', { platformRead: true }),
      `CREATE POLICY platform_mark_used ON setup_links FOR UPDATE TO gatehouse_platform USING (true) WITH CHECK (true)`,
    ]) this.addSql(statement);
  }
}
