import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import type { SsoRedirect } from '../oidc/interactions/enterprise-sso.ts';

/** The domain part of a normalized email address. */
export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1);
}

/**
 * Home-realm discovery: an email whose domain an org has verified, and which has an active
 * connection, goes straight to that IdP; several connections give a chooser. Anything else goes
 * on to the password (the answer never says whether the address has an account).
 */
export function homeRealmDiscovery(platform: PlatformRepository): SsoRedirect {
  return async (email, details) => {
    const domain = emailDomain(email);
    const connections = await platform.connectionsForDomain(domain);
    if (connections.length === 0) return null;
    const base = `/interaction/${encodeURIComponent(details.uid)}/sso`;
    return connections.length === 1 ? `${base}/${connections[0]!.id}` : `${base}/choose/${encodeURIComponent(domain)}`;
  };
}
