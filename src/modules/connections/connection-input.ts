import { z } from 'zod';
import { name, roleKey } from '../../http/schemas.ts';

// Request bodies of the connections API. Which IdP source a SAML body names (exactly one of
// metadata XML, metadata URL, manual fields) is checked by the service, so that the error names
// the fields involved.

export const presetSchema = z.enum(['generic', 'okta', 'entra', 'google']);
const httpUrl = z.url({ protocol: /^https?$/, hostname: z.regexes.hostname }).max(2048);
// OIDC Core §4: a login-initiation URI is https.
const httpsUrl = z.url({ protocol: /^https$/, hostname: z.regexes.hostname }).max(2048);
const group = z.string().trim().min(1).max(256);
const attribute = z.string().trim().min(1).max(512);

export const roleRuleSchema = z.union([
  z.strictObject({ group, role: roleKey }),
  z.strictObject({ group, teamId: z.uuid() }),
]);
export const attributeMappingSchema = z.strictObject({
  email: attribute.optional(), givenName: attribute.optional(), familyName: attribute.optional(), groups: attribute.optional(),
});

const common = {
  preset: presetSchema.optional(),
  defaultRole: roleKey.optional(),
  roleRules: z.array(roleRuleSchema).max(100).optional(),
  attributeMapping: attributeMappingSchema.optional(),
};

/** The IdP side of a SAML connection, from one of three sources. */
const samlIdp = {
  idpMetadataXml: z.string().min(1).max(1024 * 1024).optional(),
  idpMetadataUrl: httpUrl.optional(),
  idpEntityId: z.string().trim().min(1).max(1024).optional(),
  ssoUrl: httpUrl.optional(),
  ssoBinding: z.enum(['redirect', 'post']).optional(),
  certificates: z.array(z.string().min(1).max(16 * 1024)).min(1).max(10).optional(),
};

const samlOptions = {
  allowIdpInitiated: z.boolean().optional(),
  idpInitiatedLoginUrl: httpsUrl.nullable().optional(),
  requireEncryptedAssertions: z.boolean().optional(),
};

// RFC 6749 §3.3 scope-token characters.
const scopes = z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/)).min(1).max(30)
  .refine((s) => s.includes('openid'), 'must include openid');
const oidcFields = {
  issuer: httpUrl,
  discoveryUrl: httpUrl.nullable().optional(),
  clientId: z.string().trim().min(1).max(512),
  clientSecret: z.string().min(1).max(2048),
  scopes: scopes.optional(),
};

// A setup wizard shows the IdP the connection's URLs before the IdP's metadata exists, so it may
// choose the id up front (GET /orgs/:orgId/connection-endpoints names the URLs of an id).
const chosenId = { id: z.uuid().optional() };

export const createConnectionBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('saml'), ...chosenId, name, ...common, ...samlIdp, ...samlOptions }),
  z.strictObject({ type: z.literal('oidc'), ...chosenId, name, ...common, ...oidcFields }),
]);
export type CreateConnectionInput = z.infer<typeof createConnectionBody>;
export type CreateSamlInput = Extract<CreateConnectionInput, { type: 'saml' }>;
export type CreateOidcInput = Extract<CreateConnectionInput, { type: 'oidc' }>;

/** One body for both types; fields of the other type are refused by the service. */
export const updateConnectionBody = z.strictObject({
  name: name.optional(),
  active: z.boolean().optional(),
  ...common,
  ...samlIdp,
  ...samlOptions,
  issuer: oidcFields.issuer.optional(),
  discoveryUrl: oidcFields.discoveryUrl,
  clientId: oidcFields.clientId.optional(),
  clientSecret: oidcFields.clientSecret.optional(),
  scopes: oidcFields.scopes,
});
export type UpdateConnectionInput = z.infer<typeof updateConnectionBody>;

export const samlIdpFields = Object.keys(samlIdp) as (keyof typeof samlIdp)[];
export const samlOnlyFields = [...samlIdpFields, ...Object.keys(samlOptions)];
export const oidcOnlyFields = Object.keys(oidcFields);
