import { z } from 'zod';
import type { AttributeMapping, ConnectionPreset } from '../modules/connections/connection.entity.ts';
import { SsoError } from './sso-edge.ts';
import { attributesOf, type SsoProfile } from './sso-profile.ts';

/** Where a preset finds each part of the profile: claim names, tried in order. */
interface ClaimPreset {
  email: string[];
  givenName: string[];
  familyName: string[];
  groups: string[];
}

const standard = { givenName: ['given_name'], familyName: ['family_name'] };

/**
 * OIDC claim presets. Entra: `email` is optional there (absent for accounts without a mailbox),
 * so `preferred_username` and then `upn` stand in for it. RISK: neither is a verified mailbox, and
 * in a multi-tenant app any tenant can put any value there; such an address is therefore never
 * reported as verified, and it can only reach the org's own verified domains (JIT checks the
 * domain), which is why a connection's issuer must name one tenant (oidc-discovery.ts). Entra's
 * `groups` holds object ids; over ~200 groups it sends an overage pointer instead (`_claim_names`),
 * and then no groups are seen (role rules fall back to the default role). Okta sends `groups`
 * when the app's groups claim is set up. Google sends no groups; `hd` names the Workspace domain.
 */
const presets: Record<ConnectionPreset, ClaimPreset> = {
  generic: { email: ['email'], ...standard, groups: ['groups'] },
  okta: { email: ['email'], ...standard, groups: ['groups'] },
  entra: { email: ['email', 'preferred_username', 'upn'], ...standard, groups: ['groups'] },
  google: { email: ['email'], ...standard, groups: [] },
};

const email = z.email().max(320);
// The ID token's own protocol claims (OIDC Core §2): not attributes of the person.
const protocolClaims = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 'azp', 'auth_time', 'sid', 'jti']);
const maxGroups = 1000;

export type Claims = Record<string, unknown>;

/** The claim names for `preset`, with the connection's overrides (one claim name each) first. */
function claimNames(preset: ConnectionPreset, mapping: AttributeMapping): ClaimPreset {
  const base = presets[preset];
  const pick = (override: string | undefined, names: string[]) => (override ? [override] : names);
  return {
    email: pick(mapping.email, base.email),
    givenName: pick(mapping.givenName, base.givenName),
    familyName: pick(mapping.familyName, base.familyName),
    groups: pick(mapping.groups, base.groups),
  };
}

function firstString(claims: Claims, names: string[]): { name: string; value: string } | null {
  for (const name of names) {
    const value = claims[name];
    if (typeof value === 'string' && value.trim()) return { name, value: value.trim() };
  }
  return null;
}

function groupsOf(claims: Claims, names: string[]): string[] {
  for (const name of names) {
    const value = claims[name];
    if (typeof value === 'string') return [value];
    if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string').slice(0, maxGroups);
  }
  return [];
}

/** Whether the claims carry an email under the preset's names (else the userinfo endpoint is asked). */
export function hasEmail(claims: Claims, preset: ConnectionPreset, mapping: AttributeMapping = {}): boolean {
  return firstString(claims, claimNames(preset, mapping).email) !== null;
}

/**
 * The profile an OIDC IdP's claims describe. The email is reported verified only when it came from
 * the `email` claim with `email_verified: true` (OIDC Core §5.1); no email → SsoError 403.
 */
export function profileFromClaims(claims: Claims, preset: ConnectionPreset, mapping: AttributeMapping = {}): SsoProfile {
  const names = claimNames(preset, mapping);
  const found = firstString(claims, names.email);
  const parsed = found ? email.safeParse(found.value) : null;
  if (!found || !parsed?.success) {
    throw new SsoError(403, 'sso.email_missing', 'Your identity provider did not send an email address for your account. Ask your administrator to release the email claim to this application.');
  }
  const subject = claims.sub;
  if (typeof subject !== 'string' || !subject) throw new SsoError(403, 'sso.subject_missing', 'Your identity provider did not identify your account.');
  return {
    subject,
    email: parsed.data,
    emailVerified: found.name === 'email' && claims.email_verified === true,
    givenName: firstString(claims, names.givenName)?.value ?? null,
    familyName: firstString(claims, names.familyName)?.value ?? null,
    groups: groupsOf(claims, names.groups),
    attributes: attributesOf(claims, protocolClaims),
  };
}
