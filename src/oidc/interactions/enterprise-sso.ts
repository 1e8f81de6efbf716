import type { Details } from './flow.ts';

/**
 * Where enterprise SSO takes over a sign-in: given the email typed (or the `login_hint`), trimmed
 * and lower-cased, the URL of the IdP hand-off for the SSO connection that owns its domain, or
 * null to go on to the password. Set once, at composition, by the SSO feature (DESIGN.md: "a login_hint whose domain
 * has an SSO connection goes straight to that IdP").
 */
export type SsoRedirect = (email: string, details: Details) => Promise<string | null>;

export class EnterpriseSsoHook {
  #redirect: SsoRedirect = async () => null;

  use(redirect: SsoRedirect): void {
    this.#redirect = redirect;
  }

  redirectFor(email: string, details: Details): Promise<string | null> {
    return this.#redirect(email, details);
  }
}
