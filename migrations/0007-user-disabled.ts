import { Migration } from '@mikro-orm/migrations';
import { statements } from './sql.ts';

// A disabled user cannot sign in, refresh or exchange tokens anywhere, in any org; their
// memberships stay (re-enabling restores them). Set by the platform operator. Disabling ends
// everything the issuer holds for the person, found by account_id, copied out of the payload
// like grant_id. Not json ->> 'accountId': a payload holding an escaped NUL anywhere (request
// parameters are stored verbatim) makes that operator fail, and one crafted request would then
// block every disable. The backfill reads the text form, where a NUL stays an escape.
const script = `
  ALTER TABLE users ADD COLUMN disabled_at timestamptz;
  ALTER TABLE oidc_models ADD COLUMN account_id text;
  UPDATE oidc_models SET account_id = substring(payload::text FROM '"accountId":"([0-9a-f-]{36})"') WHERE account_id IS NULL;
  CREATE INDEX oidc_models_account_id ON oidc_models (account_id) WHERE account_id IS NOT NULL;
`;

export class UserDisabled extends Migration {
  override name = '0007-user-disabled';

  override up(): void {
    for (const statement of statements(script)) this.addSql(statement);
  }
}
