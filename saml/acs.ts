import type { Profile, SAML } from '@node-saml/node-saml';
import { SsoError, type SsoDeps } from '../src/federation/sso-edge.ts';
import type { SsoProfile } from '../src/federation/sso-profile.ts';
import type { Connection } from '../src/modules/connections/connection.entity.ts';
import { mapProfile } from './attribute-mapping.ts';
import {
  census, checkDestination, checkEncryption, checkInResponseTo, checkIssuers, checkShape, checkStatus, checkSubjectConfirmation,
  decodeResponse, parseXml, rejectCommentsInValues, rejectDoctype, replayExpiry, verifiedAssertion,
} from './response-checks.ts';
import { samlSettings, serviceProvider, spEndpoints } from './service-provider.ts';

export interface AcceptedResponse {
  /** The AuthnRequest answered; null for an IdP-initiated login. */
  requestId: string | null;
  profile: SsoProfile;
}

/** node-saml's failures, as a code and a message for people (its own text goes to the log only). */
function nodeSamlRejection(err: Error): SsoError {
  const text = err.message;
  if (/signature/i.test(text)) return new SsoError(403, 'saml.signature_invalid', 'The SAML response is not signed by this connection\'s identity provider.');
  if (/expired|not yet valid/i.test(text)) return new SsoError(403, 'saml.assertion_expired', 'The assertion is expired or not valid yet. Sign in again.');
  if (/audience/i.test(text)) return new SsoError(403, 'saml.audience_mismatch', 'The assertion was issued for another service provider.');
  if (/decrypt|encrypt|oaep|rsa routines|cipher/i.test(text)) return new SsoError(403, 'saml.decryption_failed', 'The encrypted assertion could not be decrypted with this connection\'s key.');
  return new SsoError(403, 'saml.invalid_response', 'The SAML response is not valid.');
}

async function validateSignature(saml: SAML, samlResponse: string, log: SsoDeps['logger']): Promise<Profile> {
  try {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse });
    if (!profile) throw new Error('no profile in the SAML response');
    return profile;
  } catch (err) {
    const rejection = nodeSamlRejection(err as Error);
    log.warn({ code: rejection.code, cause: (err as Error).message }, 'node-saml rejected a SAML response');
    throw rejection;
  }
}

/** SP-initiated: a request this deployment sent for this connection, unexpired and not yet answered. */
async function checkRequest(deps: SsoDeps, connection: Connection, requestId: string | null): Promise<void> {
  if (requestId === null) {
    const settings = samlSettings(connection);
    if (!settings.allowIdpInitiated || !settings.idpInitiatedLoginUrl) throw new SsoError(403, 'saml.idp_initiated_disabled', 'Sign-in started at the identity provider is not enabled for this connection. Start from the application.');
    return;
  }
  const request = await deps.requests.find(requestId, 'saml', connection.id);
  // An IdP-initiated ticket (no interaction) is not a request an IdP can answer.
  if (!request?.interaction_uid && !request?.test_id) throw new SsoError(403, 'saml.unknown_request', 'The SAML response does not answer a sign-in started here, or it has expired. Start again from the application.');
  if (request.used_at) throw new SsoError(403, 'saml.request_answered', 'This sign-in was completed already. Start again from the application.');
}

/**
 * The InResponseTo a response claims, before any check: only to tell which test sign-in a
 * rejected response belongs to (the worst a forger can do with it is fail someone's test).
 */
export function unverifiedRequestId(samlResponse: unknown): string | null {
  try {
    const value = parseXml(decodeResponse(samlResponse)).documentElement.getAttribute('InResponseTo');
    return value && value.length <= 128 ? value : null;
  } catch {
    return null;
  }
}

/**
 * Every check of a posted SAMLResponse, in order: size, DOCTYPE, shape and Status (cheap, before
 * any crypto), node-saml's signature, decryption, Conditions and Audience, then ours on the
 * assertion node-saml verified. The assertion ID enters the replay cache last, so that a
 * rejected response leaves nothing behind.
 */
export async function acceptResponse(deps: SsoDeps, connection: Connection, samlResponse: unknown, log = deps.logger): Promise<AcceptedResponse> {
  const settings = samlSettings(connection);
  const { acsUrl } = spEndpoints(deps.config, connection.id);
  const skewMs = deps.config.samlClockSkewSeconds * 1000;
  const xml = decodeResponse(samlResponse);
  rejectDoctype(xml);
  const doc = parseXml(xml);
  const found = census(doc);
  const shape = checkShape(doc, found);
  rejectCommentsInValues(found);
  checkStatus(shape.response);
  checkEncryption(shape, settings.requireEncryptedAssertions);

  const verified = await validateSignature(serviceProvider(deps, connection), samlResponse as string, log);
  const assertion = verifiedAssertion(verified.getAssertionXml?.() ?? '', shape);
  checkIssuers(shape.response, assertion, settings.idpEntityId);
  checkDestination(shape.response, acsUrl);
  const confirmation = checkSubjectConfirmation(assertion, acsUrl, skewMs);
  const requestId = checkInResponseTo(shape.response, confirmation);
  await checkRequest(deps, connection, requestId);
  const profile = mapProfile(verified, connection.preset, connection.attributeMapping ?? {});

  const first = await deps.replayCache.remember(connection.id, assertion.getAttribute('ID')!, replayExpiry(assertion, confirmation, skewMs));
  if (!first) throw new SsoError(403, 'saml.replay', 'This SAML response was used already. Sign in again.');
  return { requestId, profile };
}
