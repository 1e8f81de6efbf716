/**
 * What an IdP said about a person once every check passed: the edges (saml/, upstream OIDC,
 * platform Google/GitHub) produce it, JIT provisioning consumes it.
 */
export interface SsoProfile {
  /** The IdP's stable id for the person: SAML NameID, OIDC `sub`. */
  subject: string;
  email: string;
  /** Platform sign-in only links to an existing account when the IdP verified the address. */
  emailVerified: boolean;
  givenName: string | null;
  familyName: string | null;
  groups: string[];
  /** Every attribute (SAML) or claim (OIDC) the IdP sent, by name: what a test sign-in reports. */
  attributes?: Record<string, string[]>;
}

/**
 * An IdP's attributes or claims as names to string values, bounded (100 names, 100 values of up
 * to 1 KB each): they are stored for a moment with the verified answer and shown to admins.
 */
export function attributesOf(source: Record<string, unknown>, skip: ReadonlySet<string> = new Set()): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, raw] of Object.entries(source).slice(0, 100)) {
    if (skip.has(name) || name.length > 512) continue;
    const list = (Array.isArray(raw) ? raw : [raw]).slice(0, 100)
      .map((v) => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null))
      .filter((v): v is string => v !== null)
      .map((v) => v.slice(0, 1024));
    if (list.length) out[name] = list;
  }
  return out;
}
