import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// Which org a user's OIDC grant acts in (chosen at the org step, changed by an org switch).
// Org-owned, so row-level security as every org table; the issuer finds a grant's org through
// the platform role when a token is issued, and deprovisioning finds a member's grants in-org.
const script = `
  CREATE TABLE oidc_grant_orgs (
    grant_id text PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX oidc_grant_orgs_member ON oidc_grant_orgs (org_id, user_id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_grant_orgs TO gatehouse_app;
`;

export class GrantOrgs extends Migration {
  override name = '0005-grant-orgs';

  override up(): void {
    for (const statement of [...statements(script), ...orgTableSecurity('oidc_grant_orgs', { platformRead: true })]) this.addSql(statement);
  }
}
