import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// Audit retention (issue 7; src/modules/billing/retention.job.ts).
// - audit_checkpoints: where an org's chain now starts once its oldest events were deleted: the
//   seq and hash of the last deleted event (the prev_hash the first kept event must carry). It is
//   written in the transaction that deletes, so verification walks from it (audit-verify.ts).
// - The trail stays append-only for the service except for retention: the app role may delete
//   an event only when the org's checkpoint already covers it (a trigger, so no code path can
//   delete from the middle of a chain). Org deletion cascades as the table owner, unaffected.
const script = `
  CREATE TABLE audit_checkpoints (
    org_id uuid PRIMARY KEY REFERENCES organizations ON DELETE CASCADE,
    seq bigint NOT NULL,
    hash text NOT NULL,
    deleted_count bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  GRANT SELECT, INSERT, UPDATE ON audit_checkpoints TO gatehouse_app;
  GRANT DELETE ON audit_events TO gatehouse_app
`;

// One statement each: the bodies hold semicolons that statements() would split on.
const guards = [
  `CREATE FUNCTION gatehouse_audit_delete_guard() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF current_user = 'gatehouse_app' AND NOT EXISTS (
       SELECT 1 FROM audit_checkpoints c WHERE c.org_id = OLD.org_id AND c.seq >= OLD.seq
     ) THEN
       RAISE EXCEPTION 'permission denied for audit event % of org %: not covered by a retention checkpoint', OLD.seq, OLD.org_id
         USING ERRCODE = 'insufficient_privilege';
     END IF;
     RETURN OLD;
   END $$`,
  `CREATE TRIGGER audit_events_delete_guard BEFORE DELETE ON audit_events
     FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_delete_guard()`,
  // A checkpoint only moves forward: moving it back would un-cover deleted events.
  `CREATE FUNCTION gatehouse_audit_checkpoint_forward() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF NEW.seq < OLD.seq OR NEW.org_id <> OLD.org_id THEN
       RAISE EXCEPTION 'permission denied: an audit checkpoint only moves forward' USING ERRCODE = 'insufficient_privilege';
     END IF;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER audit_checkpoints_forward BEFORE UPDATE ON audit_checkpoints
     FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_checkpoint_forward()`,
];

export class Retention extends Migration {
  override name = '0016-retention';

  override up(): void {
    for (const statement of [...statements(script), ...guards, ...orgTableSecurity('audit_checkpoints', { platformRead: false })]) {
      this.addSql(statement);
    }
  }
}
