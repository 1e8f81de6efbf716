import { Migration } from '@mikro-orm/migrations';
import { orgTableSecurity, statements } from './sql.ts';

// Enterprise SSO (DESIGN.md, identity model).
// - domains: an org's claim on an email domain, proven by a DNS TXT record (or an operator).
//   Several orgs may claim a domain; only one can hold it verified (the partial unique index).
// - connections: an org's SAML or OIDC IdP. Secrets (the upstream client secret, the SP private
//   key) are sealed with SecretBox; the rest is configuration. The platform role reads both
//   tables: the ACS and callbacks find a connection by id, home-realm discovery by domain.
// - user_identities: a login method of a user (an org connection, Google, GitHub) by the IdP's
//   subject. Global like users; an org connection's rows go with the connection.
// - sso_requests: AuthnRequests and upstream OIDC states this node sent, so a response answers
//   a request that was made (InResponseTo, state) and, through the interaction it belongs to, by
//   the browser that started it. Global (platform Google/GitHub sign-in has no org).
// - saml_assertions_seen: the replay cache, shared by every node, each ID kept until its
//   assertion expires.
// - users.managed_by_org_id: an account an org's IdP created for an email outside the org's
//   verified domains. It belongs to that org alone, has no password and is never the account of
//   the person who owns the address elsewhere, so emails are unique among unmanaged accounts
//   only (and within each managing org).
// - oidc_grant_orgs.sso_connection_id: the connection a grant's sign-in went through, so SSO
//   enforcement can tell an SSO session from a password one on refresh, switch and exchange.
const script = `
  CREATE TABLE domains (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    domain text NOT NULL CHECK (domain = lower(domain)),
    verification_token text NOT NULL,
    verified_at timestamptz,
    verified_by text CHECK (verified_by IN ('dns', 'operator')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, domain)
  );
  CREATE UNIQUE INDEX domains_verified_once ON domains (domain) WHERE verified_at IS NOT NULL;
  GRANT SELECT, INSERT, UPDATE, DELETE ON domains TO gatehouse_app;

  CREATE TABLE connections (
    id uuid PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('saml', 'oidc')),
    name text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    preset text NOT NULL CHECK (preset IN ('generic', 'okta', 'entra', 'google')),
    default_role text NOT NULL,
    attribute_mapping jsonb NOT NULL DEFAULT '{}',
    role_rules jsonb NOT NULL DEFAULT '[]',
    saml jsonb,
    sp_private_key_sealed text,
    oidc jsonb,
    client_secret_sealed text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((type = 'saml') = (saml IS NOT NULL)),
    CHECK ((type = 'oidc') = (oidc IS NOT NULL))
  );
  CREATE INDEX connections_org ON connections (org_id, id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON connections TO gatehouse_app;

  ALTER TABLE organizations ADD COLUMN sso_enforced boolean NOT NULL DEFAULT false;

  ALTER TABLE users ADD COLUMN managed_by_org_id uuid REFERENCES organizations ON DELETE CASCADE;
  DROP INDEX users_email_key;
  CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE managed_by_org_id IS NULL;
  CREATE UNIQUE INDEX users_managed_email_key ON users (managed_by_org_id, lower(email)) WHERE managed_by_org_id IS NOT NULL;

  CREATE TABLE user_identities (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    provider text NOT NULL,
    connection_id uuid REFERENCES connections ON DELETE CASCADE,
    subject text NOT NULL,
    email text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, subject)
  );
  CREATE INDEX user_identities_user ON user_identities (user_id);
  GRANT SELECT, INSERT, UPDATE, DELETE ON user_identities TO gatehouse_app;

  CREATE TABLE sso_requests (
    id text PRIMARY KEY,
    provider text NOT NULL,
    connection_id uuid REFERENCES connections ON DELETE CASCADE,
    interaction_uid text,
    nonce text,
    code_verifier_sealed text,
    outcome jsonb,
    used_at timestamptz,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX sso_requests_expiry ON sso_requests (expires_at);
  GRANT SELECT, INSERT, UPDATE, DELETE ON sso_requests TO gatehouse_app;

  CREATE TABLE saml_assertions_seen (
    connection_id uuid NOT NULL REFERENCES connections ON DELETE CASCADE,
    assertion_id text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (connection_id, assertion_id)
  );
  CREATE INDEX saml_assertions_seen_expiry ON saml_assertions_seen (expires_at);
  GRANT SELECT, INSERT, UPDATE, DELETE ON saml_assertions_seen TO gatehouse_app;

  ALTER TABLE oidc_grant_orgs ADD COLUMN sso_connection_id uuid REFERENCES connections ON DELETE SET NULL;
`;

export class EnterpriseSso extends Migration {
  override name = '0011-enterprise-sso';

  override up(): void {
    const security = [...orgTableSecurity('domains', { platformRead: true }), ...orgTableSecurity('connections', { platformRead: true })];
    for (const statement of [...statements(script), ...security]) this.addSql(statement);
  }
}
