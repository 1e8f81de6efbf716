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
}
