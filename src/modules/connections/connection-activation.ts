import { ForbiddenError } from '../../errors.ts';
import type { OrgScope } from '../scope.ts';
import type { Connection } from './connection.entity.ts';

// Who may turn a connection on. A setup link is a bearer URL that can be forwarded and lives up
// to 30 days; with sso:manage alone it could point a connection at an IdP of its holder's and
// then sign in as anyone in the org's verified domains (jit.ts links such logins to existing
// users, owners included). So whatever a link makes or re-points stays off until a member with
// sso:manage turns it on, having seen it; a test sign-in (which signs nobody in) works meanwhile.

/** True when the caller is a setup link rather than a person or a key made by one. */
export function actsAsSetupLink(scope: OrgScope): boolean {
  return scope.principal?.credential.type === 'setup_link';
}

/** A setup link may never switch a connection on: 403, before anything changes. */
export function refuseLinkActivation(scope: OrgScope, active: boolean | undefined): void {
  if (active === true && actsAsSetupLink(scope)) {
    throw new ForbiddenError('connection.activation_requires_member',
      'A setup link cannot turn a connection on. An administrator of the organization turns it on after the test.');
  }
}

/**
 * What decides who the IdP is, as one comparable string: SAML entity id, SSO URL and binding,
 * signing certificates and metadata URL; OIDC issuer, discovery URL and client id (a new
 * client secret is reported separately, as it is sealed).
 */
export function idpIdentity(connection: Connection): string {
  const { saml, oidc } = connection;
  if (saml) return JSON.stringify([saml.idpEntityId, saml.ssoUrl, saml.ssoBinding, saml.certificates, saml.metadataUrl]);
  return JSON.stringify([oidc?.issuer, oidc?.discoveryUrl, oidc?.clientId]);
}
