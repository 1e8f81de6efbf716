import { Migration } from '@mikro-orm/migrations';

// oidc-provider's stored models (sessions, interactions, grants, codes, tokens, …), one row per
// (model, id), so any node can continue a flow another started. Global (no org_id, no RLS): an
// OIDC flow has no org until the login picks one, and the adapter only ever looks rows up by
// their random ids. grant_id, uid and user_code are copied out of the payload for the adapter's
// other look-ups; expires_at drives find() and the expiry sweeper; consumed_at is the one truth
// about consumption (the adapter adds `consumed` to the payload it returns).
//
// payload is json, not jsonb: oidc-provider stores request parameters verbatim (state, nonce,
// login_hint, …), and jsonb refuses a string holding \u0000 or a lone surrogate escape, so one
// crafted authorization request would fail with a server error. json keeps the text as written
// (key order included) and still offers ->/->> for queries by account.
export class OidcModels extends Migration {
  override name = '0002-oidc-models';

  // One statement per call: PGlite (extended protocol) refuses several in one.
  override up(): void {
    this.addSql(`
      CREATE TABLE oidc_models (
        model text NOT NULL,
        id text NOT NULL,
        payload json NOT NULL,
        grant_id text,
        user_code text,
        uid text,
        expires_at timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (model, id)
      )`);
    this.addSql('CREATE INDEX oidc_models_grant_id ON oidc_models (grant_id) WHERE grant_id IS NOT NULL');
    this.addSql('CREATE INDEX oidc_models_uid ON oidc_models (uid) WHERE uid IS NOT NULL');
    this.addSql('CREATE INDEX oidc_models_user_code ON oidc_models (user_code) WHERE user_code IS NOT NULL');
    this.addSql('CREATE INDEX oidc_models_expires_at ON oidc_models (expires_at) WHERE expires_at IS NOT NULL');
    this.addSql('GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_models TO gatehouse_app');
  }
}
