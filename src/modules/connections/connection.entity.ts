import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** How an IdP's attributes (SAML) or claims (OIDC) become a profile: a preset, plus overrides. */
export type ConnectionPreset = 'generic' | 'okta' | 'entra' | 'google';

export interface AttributeMapping {
  email?: string;
  givenName?: string;
  familyName?: string;
  groups?: string;
}

/** An IdP group, by name, gives a role or a team membership; evaluated at every login. */
export type RoleRule = { group: string; role: string } | { group: string; teamId: string };

export interface SamlSettings {
  idpEntityId: string;
  /** The IdP's SSO service: where AuthnRequests go, and over which binding. */
  ssoUrl: string;
  ssoBinding: 'redirect' | 'post';
  /** PEM certificates the IdP signs with; several at once while it rotates. */
  certificates: string[];
  /** When set, the metadata is re-fetched from here periodically (metadata-refresher.ts). */
  metadataUrl: string | null;
  metadataRefreshedAt: string | null;
  /** The SP's own certificate (public); its private key is sealed in sp_private_key_sealed. */
  spCertificate: string;
  allowIdpInitiated: boolean;
  /** Where an IdP-initiated login sends the browser: the product's login-initiation URL (OIDC Core §4). */
  idpInitiatedLoginUrl: string | null;
  /** Refuse assertions that are not encrypted to the SP certificate. */
  requireEncryptedAssertions: boolean;
  /** SHA-256 fingerprints of IdP certificates already reported as expiring (one audit event each). */
  warnedFingerprints?: string[];
}

export interface OidcSettings {
  /** The issuer; discovery is at `${issuer}/.well-known/openid-configuration` unless discoveryUrl is set. */
  issuer: string;
  discoveryUrl: string | null;
  clientId: string;
  scopes: string[];
}

// An org's enterprise SSO connection (migration 0011). Org-owned: the org filter and RLS apply.
export const Connection = defineEntity({
  name: 'Connection',
  tableName: 'connections',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    type: p.enum(['saml', 'oidc'] as const),
    name: p.text(),
    active: p.boolean(),
    preset: p.enum(['generic', 'okta', 'entra', 'google'] as const),
    defaultRole: p.text(),
    attributeMapping: p.json<AttributeMapping>(),
    roleRules: p.json<RoleRule[]>(),
    saml: p.json<SamlSettings>().nullable(),
    spPrivateKeySealed: p.text().nullable().hidden(),
    oidc: p.json<OidcSettings>().nullable(),
    clientSecretSealed: p.text().nullable().hidden(),
    /** Set while the org's plan lacks SSO (billing/plan-effects.ts): kept, but no login goes through. */
    planDisabledAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Connection = InferEntity<typeof Connection>;
