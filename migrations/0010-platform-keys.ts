import { Migration } from '@mikro-orm/migrations';
import { statements } from './sql.ts';

// The platform team's API keys (ghp_<keyid>_<secret>): credentials of the operators, tied to no
// org, for the platform API (/api/v1/platform/*). Global, like users, but unlike users the request
// role gatehouse_app gets no privilege on it at all: every handler and most code run as that role,
// and none of them may read a key's hash or mint an operator credential. Everything goes through
// the four named methods of the platform repository, as gatehouse_platform: the authenticator's
// look-up and last-used mark, and the CLI's create and revoke (the CLI opens the same database as
// the app and switches role per transaction like it, so it needs no grant of its own). The id is
// the public <keyid> inside the key, as in api_keys; only a keyed hash of the secret is kept.
const script = `
  CREATE TABLE platform_api_keys (
    id text PRIMARY KEY,
    name text NOT NULL,
    secret_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
  );
  GRANT SELECT, INSERT ON platform_api_keys TO gatehouse_platform;
  GRANT UPDATE (last_used_at, revoked_at) ON platform_api_keys TO gatehouse_platform;
`;

export class PlatformKeys extends Migration {
  override name = '0010-platform-keys';

  override up(): void {
    for (const statement of statements(script)) this.addSql(statement);
  }
}
