import type { Profile } from '@node-saml/node-saml';
import { SsoError } from '../src/federation/sso-edge.ts';
import { attributesOf, type SsoProfile } from '../src/federation/sso-profile.ts';
import type { AttributeMapping, ConnectionPreset } from '../src/modules/connections/connection.entity.ts';

// SAML attributes → SsoProfile (issue 4, item 4). Each field has candidate attribute names, tried
// in order; a connection's attributeMapping replaces a field's candidates with its one name.

type Field = keyof AttributeMapping;
type Candidates = Record<Field, string[]>;

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';

export const presets: Record<ConnectionPreset, Candidates> = {
  // Okta's attribute statements as admins usually name them (the SAML app wizard's examples).
  okta: { email: ['email', 'Email'], givenName: ['firstName', 'FirstName'], familyName: ['lastName', 'LastName'], groups: ['groups', 'Groups'] },
  // Entra ID's default claims (claim URIs) and its groups claim (object ids, or names when configured).
  entra: {
    email: [`${CLAIMS}/emailaddress`, `${CLAIMS}/name`],
    givenName: [`${CLAIMS}/givenname`],
    familyName: [`${CLAIMS}/surname`],
    groups: ['http://schemas.microsoft.com/ws/2008/06/identity/claims/groups', 'groups'],
  },
  // Google Workspace has no default attributes: these are the names admins give in the app's
  // attribute mapping; the NameID is the primary email.
  google: { email: ['email', 'primaryEmail'], givenName: ['firstName', 'givenName'], familyName: ['lastName', 'familyName'], groups: ['groups'] },
  generic: {
    email: ['email', 'mail', 'emailAddress', 'urn:oid:0.9.2342.19200300.100.1.3'],
    givenName: ['givenName', 'firstName', 'urn:oid:2.5.4.42'],
    familyName: ['sn', 'surname', 'lastName', 'urn:oid:2.5.4.4'],
    groups: ['groups', 'memberOf', 'urn:oid:1.3.6.1.4.1.5923.1.5.1.1'],
  },
};

function values(attributes: Record<string, unknown>, names: string[]): string[] {
  for (const name of names) {
    const raw = attributes[name];
    const list = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter(Boolean);
    if (list.length) return list;
  }
  return [];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The subject is the NameID for every preset, Entra's included: its objectidentifier claim is
 * stabler, but only when the admin keeps it in the claims, while the NameID is always there
 * (Entra's default NameID is the UPN; admins pick persistent for a stable one).
 */
export function mapProfile(profile: Profile, preset: ConnectionPreset, overrides: AttributeMapping): SsoProfile {
  const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
  const candidates = (field: Field) => (overrides[field] ? [overrides[field]!] : presets[preset][field]);
  const nameId = typeof profile.nameID === 'string' ? profile.nameID.trim() : '';
  if (!nameId) throw new SsoError(403, 'saml.missing_nameid', 'The identity provider sent no NameID for you.');
  const email = values(attributes, candidates('email'))[0] ?? (EMAIL.test(nameId) ? nameId : undefined);
  if (!email || !EMAIL.test(email)) {
    throw new SsoError(403, 'saml.missing_email', 'The identity provider did not send your email address. Ask your IT admin to add an email attribute to the SAML app.');
  }
  return {
    subject: nameId,
    email: email.toLowerCase(),
    // An org's IdP speaks for its own directory; JIT still links only within the org's verified domains.
    emailVerified: true,
    givenName: values(attributes, candidates('givenName'))[0] ?? null,
    familyName: values(attributes, candidates('familyName'))[0] ?? null,
    groups: values(attributes, candidates('groups')),
    attributes: attributesOf(attributes),
  };
}
