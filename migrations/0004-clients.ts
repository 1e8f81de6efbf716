import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// OAuth clients of the issuer. Platform clients (the product's web apps and SPAs) are global;
// service accounts belong to one org (row-level security as every org table) and are found by
// client id through the platform role when a client authenticates.
const script = `
  CREATE TABLE oauth_clients (
    client_id text PRIMARY KEY,
    name text NOT NULL,
    public boolean NOT NULL,
    redirect_uris text[] NOT NULL,
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    backchannel_logout_uri text,
    secret text,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK (public = (secret IS NULL))
  );
  GRANT SELECT, INSERT, UPDATE ON oauth_clients TO gatehouse_app;

  CREATE TABLE service_accounts (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    name text NOT NULL,
    role text NOT NULL,
    client_id text NOT NULL UNIQUE,
    secret text NOT NULL,
    created_by uuid REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
  );
  CREATE INDEX service_accounts_page ON service_accounts (org_id, id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON service_accounts TO gatehouse_app;
`;

export class Clients extends Migration {
  override name = '0004-clients';

  override up(): void {
    for (const statement of [...statements(script), ...orgTableSecurity('service_accounts', { platformRead: true })]) this.addSql(statement);
  }
}
