import type { Context } from 'koa';
import type { Details } from './flow.ts';

/**
 * Where enterprise SSO takes over a sign-in: given the email typed (or the `login_hint`), trimmed
 * and lower-cased, the URL of the IdP hand-off for the SSO connection that owns its domain, or
 * null to go on to the password. Set once, at composition, by the SSO feature (DESIGN.md: "a login_hint whose domain
 * has an SSO connection goes straight to that IdP").
 */
export type SsoRedirect = (email: string, details: Details) => Promise<string | null>;

/** An IdP-initiated login's hand-off: signs the browser in if it carries one, true then. */
export type IdpInitiatedPickUp = (ctx: Context, details: Details) => Promise<boolean>;

export class EnterpriseSsoHook {
  #redirect: SsoRedirect = async () => null;
  #pickUp: IdpInitiatedPickUp = async () => false;

  use(redirect: SsoRedirect, pickUp?: IdpInitiatedPickUp): void {
    this.#redirect = redirect;
    if (pickUp) this.#pickUp = pickUp;
  }

  pickUpIdpInitiated(ctx: Context, details: Details): Promise<boolean> {
    return this.#pickUp(ctx, details);
  }

  redirectFor(email: string, details: Details): Promise<string | null> {
    return this.#redirect(email, details);
  }
}
