import { generateServiceProviderMetadata, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { Config } from '../config/config.schema.ts';
import type { SsoDeps } from '../src/federation/sso-edge.ts';
import type { Connection, SamlSettings } from '../src/modules/connections/connection.entity.ts';
import { SsoError } from '../src/federation/sso-edge.ts';

/** The SP side of one connection: what the IdP admin pastes, and what responses must name. */
export interface SpEndpoints {
  entityId: string;
  acsUrl: string;
}

export function spEndpoints(config: Config, connectionId: string): SpEndpoints {
  const base = `${config.publicUrl.replace(/\/$/, '')}/sso/saml/${connectionId}`;
  return { entityId: `${base}/metadata`, acsUrl: `${base}/acs` };
}

/** The IdP leaves the format to its own configuration (Okta, Entra and Google all default to email or persistent). */
const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';

export function samlSettings(connection: Connection): SamlSettings {
  if (connection.type !== 'saml' || !connection.saml) throw new SsoError(404, 'connection.not_found', 'This sign-in link is not valid.');
  return connection.saml;
}

/** The SP's private key, opened for this request only (AuthnRequest signing, assertion decryption). */
function spPrivateKey(deps: SsoDeps, connection: Connection): string {
  if (!connection.spPrivateKeySealed) throw new SsoError(500, 'saml.sp_key_missing', 'This SSO connection is not set up completely.');
  return deps.secrets.open(connection.spPrivateKeySealed, connection.id);
}

/**
 * node-saml 5.1 for one connection, built per request from the row (no instance outlives a
 * request, so a certificate rotation or key change applies at once on every node).
 *
 * What node-saml checks with these options (lib/saml.js validatePostResponseAsync):
 * - at least one valid XML signature by a certificate of `idpCert` (any of them: rotation): with
 *   wantAuthnResponseSigned and wantAssertionsSigned both false it accepts a valid Response
 *   signature, or else requires a valid Assertion signature (plain or inside the decrypted
 *   EncryptedAssertion) and throws "Invalid signature"; a response without an assertion always
 *   throws. The signature must be enveloped, reference its parent by a unique ID, have at most
 *   two transforms, and only the signed bytes (xml-crypto's signed references) are read on.
 * - more than one Assertion/EncryptedAssertion child of the Response: rejected.
 * - Conditions NotBefore/NotOnOrAfter with acceptedClockSkewMs, and the AudienceRestriction
 *   must name `audience`.
 * What it leaves to us (saml/response-checks.ts): Issuer, Destination, Recipient, the
 * SubjectConfirmation times (only read when InResponseTo is validated), the Status when an
 * assertion is present, DOCTYPE, size, replay, and InResponseTo: validateInResponseTo is
 * `never` because its cacheProvider is per process and keyed only by ID; our requests live in
 * sso_requests (every node, per connection, per interaction).
 */
export function serviceProvider(deps: SsoDeps, connection: Connection, requestId?: string): SAML {
  const settings = samlSettings(connection);
  const { entityId, acsUrl } = spEndpoints(deps.config, connection.id);
  const privateKey = spPrivateKey(deps, connection);
  return new SAML({
    issuer: entityId,
    audience: entityId,
    callbackUrl: acsUrl,
    entryPoint: settings.ssoUrl,
    idpCert: settings.certificates,
    privateKey,
    decryptionPvk: privateKey,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    wantAssertionsSigned: false,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: deps.config.samlClockSkewSeconds * 1000,
    validateInResponseTo: ValidateInResponseTo.never,
    disableRequestedAuthnContext: true,
    identifierFormat: NAMEID_UNSPECIFIED,
    authnRequestBinding: settings.ssoBinding === 'post' ? 'HTTP-POST' : 'HTTP-Redirect',
    // SAML Bindings §3.5.4: the HTTP-POST binding carries the XML base64-encoded, not DEFLATEd.
    skipRequestCompression: settings.ssoBinding === 'post',
    generateUniqueId: () => requestId ?? '_unused',
  });
}

/** SP metadata: entity id, ACS (HTTP-POST), the SP certificate for signing and for encryption. */
export function spMetadata(deps: SsoDeps, connection: Connection): string {
  const settings = samlSettings(connection);
  const { entityId, acsUrl } = spEndpoints(deps.config, connection.id);
  const privateKey = spPrivateKey(deps, connection);
  return generateServiceProviderMetadata({
    issuer: entityId,
    callbackUrl: acsUrl,
    privateKey,
    decryptionPvk: privateKey,
    publicCerts: settings.spCertificate,
    decryptionCert: settings.spCertificate,
    identifierFormat: NAMEID_UNSPECIFIED,
    // The metadata asks IdPs to sign assertions (what Entra does by default); a response signed
    // only at the Response level is still accepted, as issue 4 requires.
    wantAssertionsSigned: true,
    signatureAlgorithm: 'sha256',
  });
}
