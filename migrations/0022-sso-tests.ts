import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// Test sign-ins through an org's connection (issue 8, the setup wizard's "test the connection").
// - sso_tests: one test an admin started through the API, bound to its org and connection; the
//   IdP's answer passes every protocol check as a real sign-in would, then, instead of signing
//   anyone in or provisioning anyone, its outcome (what arrived and the role it maps to, or the
//   check that failed) is stored here for the console to read. Org-owned: RLS, no platform read
//   (the SSO edges write it in the connection's org, found from the connection).
// - sso_requests.test_id: the request sent to the IdP for such a test (no interaction: nobody is
//   signed in at the end).
const script = `
  CREATE TABLE sso_tests (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    connection_id uuid NOT NULL REFERENCES connections ON DELETE CASCADE,
    return_to text NOT NULL,
    started_at timestamptz,
    finished_at timestamptz,
    result jsonb,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX sso_tests_connection ON sso_tests (org_id, connection_id, created_at);
  GRANT SELECT, INSERT, UPDATE, DELETE ON sso_tests TO gatehouse_app;

  ALTER TABLE sso_requests ADD COLUMN test_id uuid REFERENCES sso_tests ON DELETE CASCADE;
`;

export class SsoTests extends Migration {
  override name = '0022-sso-tests';

  override up(): void {
    for (const statement of [...statements(script), ...orgTableSecurity('sso_tests', { platformRead: false })]) this.addSql(statement);
  }
}
