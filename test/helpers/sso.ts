import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { generateSpCredentials } from '../../saml/sp-credentials.ts';
import { Connection, type OidcSettings, type RoleRule, type SamlSettings } from '../../src/modules/connections/connection.entity.ts';
import type { TestApp } from './app.ts';

// Fixtures for SSO tests that are not about the connections and domains API itself: rows made
// in the org's own transaction (row-level security applies), as the services would make them.

/** Marks `domain` verified for `orgId` (as `gatehouse domains verify` would). */
export async function verifiedDomain(t: TestApp, orgId: string, domain: string): Promise<void> {
  await t.db.inOrg(orgId, (em) => em.execute(
    `INSERT INTO domains (id, org_id, domain, verification_token, verified_at, verified_by) VALUES (?, ?, ?, ?, now(), 'operator')`,
    [uuidv7(), orgId, domain, randomBytes(16).toString('hex')],
  ));
}

export interface ConnectionFixture {
  preset?: Connection['preset'];
  defaultRole?: string;
  roleRules?: RoleRule[];
  name?: string;
}

/** A SAML connection with a fresh SP key; `saml` holds the IdP side. Returns the row. */
export async function samlConnection(t: TestApp, orgId: string, saml: Partial<SamlSettings> & Pick<SamlSettings, 'idpEntityId' | 'ssoUrl' | 'certificates'>, opts: ConnectionFixture = {}): Promise<Connection> {
  const id = uuidv7();
  const sp = generateSpCredentials(`Gatehouse SP ${id}`);
  const settings: SamlSettings = {
    ssoBinding: 'redirect', metadataUrl: null, metadataRefreshedAt: null, allowIdpInitiated: false, idpInitiatedLoginUrl: null,
    requireEncryptedAssertions: false, ...saml, spCertificate: sp.certificatePem,
  };
  return t.db.inOrg(orgId, async (em) => {
    const row = em.create(Connection, {
      id, orgId, type: 'saml', name: opts.name ?? 'SAML IdP', active: true, preset: opts.preset ?? 'generic', defaultRole: opts.defaultRole ?? 'member',
      attributeMapping: {}, roleRules: opts.roleRules ?? [], saml: settings, spPrivateKeySealed: t.app.services.secrets.seal(sp.privateKeyPem, id),
      oidc: null, clientSecretSealed: null,
    });
    await em.flush();
    return row;
  });
}

/** An upstream OIDC connection; the client secret is sealed as the service seals it. */
export async function oidcConnection(t: TestApp, orgId: string, oidc: Partial<OidcSettings> & Pick<OidcSettings, 'issuer' | 'clientId'>, clientSecret: string, opts: ConnectionFixture = {}): Promise<Connection> {
  const id = uuidv7();
  return t.db.inOrg(orgId, async (em) => {
    const row = em.create(Connection, {
      id, orgId, type: 'oidc', name: opts.name ?? 'OIDC IdP', active: true, preset: opts.preset ?? 'generic', defaultRole: opts.defaultRole ?? 'member',
      attributeMapping: {}, roleRules: opts.roleRules ?? [], saml: null, spPrivateKeySealed: null,
      oidc: { discoveryUrl: null, scopes: ['openid', 'email', 'profile'], ...oidc }, clientSecretSealed: t.app.services.secrets.seal(clientSecret, id),
    });
    await em.flush();
    return row;
  });
}
