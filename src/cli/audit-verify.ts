import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import { databaseOptions, openDatabase } from '../db/orm.ts';
import { verifyChain } from '../modules/audit/audit-verify.ts';

/** `gatehouse audit verify --org ORG_ID`: exit 0 when the chain is intact, 1 when it breaks. */
export async function verifyAuditCommand(config: Config, logger: Logger, orgId: string, json: boolean): Promise<number> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(orgId)) {
    console.error('--org: must be an organization id');
    return 2;
  }
  const db = await openDatabase(databaseOptions(config, logger));
  try {
    const report = await verifyChain(db, orgId.toLowerCase());
    if (json) console.log(JSON.stringify(report));
    else if (report.intact) console.log(`audit chain of ${orgId} is intact (${report.eventsChecked} events)`);
    else console.log(`audit chain of ${orgId} breaks at event #${report.brokenAt!.seq} ${report.brokenAt!.eventId ?? ''} (${report.brokenAt!.reason})`);
    return report.intact ? 0 : 1;
  } finally {
    await db.close();
  }
}
