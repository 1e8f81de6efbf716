import { Migration } from '@mikro-orm/migrations';

// Audit checkpoints must name a real event that is not the newest (security review M2).
// 0016's guard only kept a checkpoint moving forward, so the app role could upsert one at the
// head's (seq, hash), delete the whole trail, and verify would say intact. Now, for the app role,
// a checkpoint that moves must carry the hash of the stored event at its seq (retention writes it
// before it deletes, in one transaction) and must stay below the org's head: retention appends its
// `audit.retention_applied` event first, so the events it deletes are never the newest.
// Seq 0 (the genesis checkpoint retention creates before its first batch) covers nothing.
const guard = `CREATE FUNCTION gatehouse_audit_checkpoint_guard() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF current_user <> 'gatehouse_app' OR NEW.seq = 0 THEN
       RETURN NEW;
     END IF;
     IF TG_OP = 'UPDATE' AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash THEN
       RETURN NEW;
     END IF;
     IF NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.org_id = NEW.org_id AND e.seq = NEW.seq AND e.hash = NEW.hash) THEN
       RAISE EXCEPTION 'permission denied: an audit checkpoint must name a stored event of org %', NEW.org_id
         USING ERRCODE = 'insufficient_privilege';
     END IF;
     IF NOT EXISTS (SELECT 1 FROM audit_chain_heads h WHERE h.org_id = NEW.org_id AND h.seq > NEW.seq) THEN
       RAISE EXCEPTION 'permission denied: an audit checkpoint may not cover the newest event of org %', NEW.org_id
         USING ERRCODE = 'insufficient_privilege';
     END IF;
     RETURN NEW;
   END $$`;

export class AuditCheckpointGuard extends Migration {
  override name = '0018-audit-checkpoint-guard';

  override up(): void {
    this.addSql(guard);
    this.addSql(`CREATE TRIGGER audit_checkpoints_guard BEFORE INSERT OR UPDATE ON audit_checkpoints
       FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_checkpoint_guard()`);
  }
}
