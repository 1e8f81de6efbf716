import { Migration } from '@mikro-orm/migrations';

// The platform operators' overview (issue 8 item 5; platform-orgs.repository.ts) shows when each
// org's SCIM directories last changed anything. The platform role may read only the columns that
// answer that (org, directory, updated_at) of directory users and groups: a column grant, so the
// people themselves (names, emails, SCIM payloads) stay unreadable to it.
export class PlatformOverview extends Migration {
  override name = '0021-platform-overview';

  override up(): void {
    for (const table of ['directory_users', 'directory_groups']) {
      this.addSql(`GRANT SELECT (org_id, directory_id, updated_at) ON ${table} TO gatehouse_platform`);
      this.addSql(`CREATE POLICY platform_read ON ${table} FOR SELECT TO gatehouse_platform USING (true)`);
    }
  }
}
