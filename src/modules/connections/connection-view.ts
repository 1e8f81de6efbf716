import { z } from 'zod';
import { timestamp } from '../../http/schemas.ts';
import type { Connection } from './connection.entity.ts';
import { describeCertificates } from './idp-certificates.ts';

/** Where the IdP reaches this connection: what the IT admin pastes into Okta, Entra or Google. */
export function spEndpoints(publicUrl: string, connectionId: string) {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    entityId: `${base}/sso/saml/${connectionId}/metadata`,
    acsUrl: `${base}/sso/saml/${connectionId}/acs`,
    metadataUrl: `${base}/sso/saml/${connectionId}/metadata`,
    redirectUri: `${base}/sso/oidc/${connectionId}/callback`,
  };
}

/**
 * A connection as the API shows it. Built field by field: the sealed SP key and client secret
 * are never read here, and the response schema below strips anything else.
 */
export function connectionView(connection: Connection, publicUrl: string, now = new Date()) {
  const urls = spEndpoints(publicUrl, connection.id);
  const { saml, oidc } = connection;
  return {
    id: connection.id,
    type: connection.type,
    name: connection.name,
    active: connection.active,
    disabledByPlan: connection.planDisabledAt != null,
    preset: connection.preset,
    defaultRole: connection.defaultRole,
    roleRules: connection.roleRules,
    attributeMapping: connection.attributeMapping,
    saml: saml ? {
      idpEntityId: saml.idpEntityId,
      ssoUrl: saml.ssoUrl,
      ssoBinding: saml.ssoBinding,
      metadataUrl: saml.metadataUrl,
      metadataRefreshedAt: saml.metadataRefreshedAt,
      allowIdpInitiated: saml.allowIdpInitiated,
      idpInitiatedLoginUrl: saml.idpInitiatedLoginUrl,
      requireEncryptedAssertions: saml.requireEncryptedAssertions,
      certificates: describeCertificates(saml.certificates, now),
    } : null,
    sp: saml ? { entityId: urls.entityId, acsUrl: urls.acsUrl, metadataUrl: urls.metadataUrl, certificate: saml.spCertificate } : null,
    oidc: oidc ? { issuer: oidc.issuer, discoveryUrl: oidc.discoveryUrl, clientId: oidc.clientId, scopes: oidc.scopes } : null,
    redirectUri: oidc ? urls.redirectUri : null,
    createdAt: connection.createdAt,
    updatedAt: connection.updatedAt,
  };
}
export type ConnectionView = ReturnType<typeof connectionView>;

const certificateSchema = z.object({
  pem: z.string(),
  fingerprintSha256: z.string(),
  subject: z.string(),
  notAfter: timestamp,
  expiresSoon: z.boolean().describe('Ends within 30 days: rotate it at the IdP'),
  expired: z.boolean(),
});

export const connectionSchema = z.object({
  id: z.uuid(),
  type: z.enum(['saml', 'oidc']),
  name: z.string(),
  active: z.boolean(),
  disabledByPlan: z.boolean().describe('The org\'s plan no longer includes SSO: kept, but no login goes through it until the plan does again'),
  preset: z.enum(['generic', 'okta', 'entra', 'google']),
  defaultRole: z.string(),
  roleRules: z.array(z.union([z.object({ group: z.string(), role: z.string() }), z.object({ group: z.string(), teamId: z.string() })])),
  attributeMapping: z.object({ email: z.string().optional(), givenName: z.string().optional(), familyName: z.string().optional(), groups: z.string().optional() }),
  saml: z.object({
    idpEntityId: z.string(),
    ssoUrl: z.string(),
    ssoBinding: z.enum(['redirect', 'post']),
    metadataUrl: z.string().nullable(),
    metadataRefreshedAt: z.string().nullable(),
    allowIdpInitiated: z.boolean(),
    idpInitiatedLoginUrl: z.string().nullable(),
    requireEncryptedAssertions: z.boolean(),
    certificates: z.array(certificateSchema).describe('The IdP\'s signing certificates'),
  }).nullable(),
  sp: z.object({
    entityId: z.string(), acsUrl: z.string(), metadataUrl: z.string(), certificate: z.string().describe('The SP certificate (PEM): signs AuthnRequests; IdPs encrypt assertions to it'),
  }).nullable().describe('SAML: what the IdP needs about Gatehouse'),
  oidc: z.object({ issuer: z.string(), discoveryUrl: z.string().nullable(), clientId: z.string(), scopes: z.array(z.string()) }).nullable(),
  redirectUri: z.string().nullable().describe('OIDC: the redirect URI to register at the IdP'),
  createdAt: timestamp,
  updatedAt: timestamp,
});
