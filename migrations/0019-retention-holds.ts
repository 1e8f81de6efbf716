import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// The audit retentions each org has held lately (security review M3; billing/retention-holds.ts).
// held: {"<days>" | "forever": when the retention job last saw the org's plan keep that long}.
// A shorter retention deletes nothing until the longer ones have not been held for
// GATEHOUSE_RETENTION_DOWNGRADE_DAYS: a fallback to free (grace ended, plan removed from the file,
// billing just turned on) can no longer delete history within the hour.
const script = `
  CREATE TABLE audit_retention_holds (
    org_id uuid PRIMARY KEY REFERENCES organizations ON DELETE CASCADE,
    held jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  GRANT SELECT, INSERT, UPDATE ON audit_retention_holds TO gatehouse_app
`;

export class RetentionHolds extends Migration {
  override name = '0019-retention-holds';

  override up(): void {
    for (const statement of [...statements(script), ...orgTableSecurity('audit_retention_holds', { platformRead: false })]) {
      this.addSql(statement);
    }
  }
}
