import type { Context } from 'koa';
import type { Connection } from '../modules/connections/connection.entity.ts';
import type { SsoProfile } from './sso-profile.ts';

/** Who vouches for a verified profile: an org's connection, or a platform-wide provider. */
export type SsoSource = { kind: 'connection'; connection: Connection } | { kind: 'platform'; provider: 'google' | 'github' };

/**
 * The hand-off from an SSO edge back into the hosted sign-in. An edge calls `verified` once
 * every protocol check passed; the person is provisioned and signed in only later, at the
 * interaction of the browser that started the request.
 */
export class SsoLogins {
  /** `requestId` is the request the IdP answered (null: an IdP-initiated SAML login). Redirects the browser. */
  async verified(_ctx: Context, _source: SsoSource, _requestId: string | null, _profile: SsoProfile): Promise<void> {
    throw new Error('not yet');
  }
}
