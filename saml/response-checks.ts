import { DOMParser } from '@xmldom/xmldom';
import xpath from 'xpath';
import { SsoError } from '../src/federation/sso-edge.ts';

// The checks of a SAML Response that node-saml 5.1 leaves to the SP (issue 4, item 3; see
// service-provider.ts for what node-saml itself verifies). Each is one named function that
// throws an SsoError with a stable code and a message safe to show.

const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const select = xpath.useNamespaces({ samlp: PROTOCOL, saml: ASSERTION, ds: 'http://www.w3.org/2000/09/xmldsig#' });

/** Base64 of a SAMLResponse: generous for an assertion with many groups, small enough to parse safely. */
export const MAX_SAML_RESPONSE_BASE64 = 256 * 1024;

function rejected(code: string, message: string, status = 403): SsoError {
  return new SsoError(status, code, message);
}

function elements(expression: string, node: Node): Element[] {
  return select(expression, node) as Element[];
}

function attribute(node: Element, name: string): string | null {
  return node.hasAttribute(name) ? node.getAttribute(name) : null;
}

/** The posted SAMLResponse, bounded in size, base64-decoded as node-saml decodes it (UTF-8). */
export function decodeResponse(samlResponse: unknown): string {
  if (typeof samlResponse !== 'string' || samlResponse.length === 0) throw rejected('saml.missing_response', 'The identity provider sent no SAML response.', 400);
  if (samlResponse.length > MAX_SAML_RESPONSE_BASE64) throw rejected('saml.response_too_large', 'The SAML response is too large.', 413);
  if (!/^[A-Za-z0-9+/=\s]+$/.test(samlResponse)) throw rejected('saml.malformed', 'The SAML response is not valid base64.', 400);
  return Buffer.from(samlResponse, 'base64').toString('utf8');
}

/** No DTD at all: entity expansion and external entities have no place in a SAML message. */
export function rejectDoctype(xml: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw rejected('saml.doctype', 'The SAML response contains a DOCTYPE, which is not allowed.', 400);
}

export function parseXml(xml: string): Document {
  const fail = (msg: string) => { throw rejected('saml.malformed', `The SAML response is not well-formed XML (${msg.split('\n')[0]!.slice(0, 120)}).`, 400); };
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: fail, fatalError: fail } }).parseFromString(xml, 'text/xml');
  if (!doc?.documentElement) fail('no root element');
  return doc as unknown as Document;
}

/** What the whole document holds, in one walk (xpath's `//` over a 256 KB document costs more than the signature check). */
export interface Census {
  responses: Element[];
  assertions: Element[];
  commentInValue: boolean;
}

/** Iterative (a deeply nested document cannot exhaust the stack). */
export function census(doc: Document): Census {
  const out: Census = { responses: [], assertions: [], commentInValue: false };
  const stack: Array<{ node: Node; inValue: boolean }> = [{ node: doc, inValue: false }];
  while (stack.length) {
    const { node, inValue } = stack.pop()!;
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === 8 && inValue) out.commentInValue = true;
      if (child.nodeType !== 1) continue;
      const name = (child as Element).localName;
      if (name === 'Response') out.responses.push(child as Element);
      else if (name === 'Assertion' || name === 'EncryptedAssertion') out.assertions.push(child as Element);
      stack.push({ node: child, inValue: inValue || name === 'NameID' || name === 'AttributeValue' });
    }
  }
  return out;
}

export interface ResponseShape {
  response: Element;
  encrypted: boolean;
  /** The ID of the one plain Assertion (null when it is encrypted). */
  assertionId: string | null;
}

/**
 * Exactly one Response, as the root, and exactly one Assertion or EncryptedAssertion anywhere in
 * the document, a child of it: signature-wrapping attacks need a second assertion somewhere (in
 * Extensions, in the Signature's Object, beside the signed one), so there can be none.
 */
export function checkShape(doc: Document, found: Census): ResponseShape {
  const response = doc.documentElement;
  if (response.localName !== 'Response' || response.namespaceURI !== PROTOCOL || found.responses.length !== 1) {
    throw rejected('saml.not_a_response', 'The message is not a single SAML Response.', 400);
  }
  const assertion = found.assertions[0];
  if (found.assertions.length !== 1 || assertion!.parentNode !== response || assertion!.namespaceURI !== ASSERTION) {
    throw rejected('saml.assertion_count', 'The SAML response must carry exactly one assertion.');
  }
  const encrypted = assertion!.localName === 'EncryptedAssertion';
  return { response, encrypted, assertionId: encrypted ? null : attribute(assertion!, 'ID') };
}

/**
 * No comment inside a NameID or attribute value: c14n drops comments, so a signature still
 * verifies after one is slipped into `alice@corp.example<!---->.evil.test`, and a reader that
 * stops at the first text node would see alice (the 2018 SAML comment-truncation attacks).
 * node-saml reads the whole canonical text; IdPs never send comments there, so refuse outright.
 */
export function rejectCommentsInValues(found: Census): void {
  if (found.commentInValue) {
    throw rejected('saml.comment_in_value', 'The SAML response has a comment inside a name or attribute value, which is not allowed.', 400);
  }
}

/** SAML Core §3.2.2.2: anything but a top-level Success is a failed sign-in, whatever else the response holds. */
export function checkStatus(response: Element): void {
  const codes = elements('samlp:Status/samlp:StatusCode', response);
  const top = codes[0] ? attribute(codes[0], 'Value') : null;
  if (codes.length === 1 && top === SUCCESS) return;
  const nested = codes[0] ? elements('samlp:StatusCode', codes[0])[0] : undefined;
  const short = [top, nested ? attribute(nested, 'Value') : null].filter(Boolean).map((v) => v!.split(':').pop()).join(' / ');
  throw rejected('saml.status', `Your identity provider did not sign you in (SAML status ${short || 'missing'}).`);
}

export function checkEncryption(shape: ResponseShape, requireEncrypted: boolean): void {
  if (requireEncrypted && !shape.encrypted) throw rejected('saml.not_encrypted', 'This connection accepts encrypted assertions only.');
}

/** The assertion node-saml verified (the signed bytes, decrypted when encrypted), parsed for our checks. */
export function verifiedAssertion(assertionXml: string, shape: ResponseShape): Element {
  rejectDoctype(assertionXml);
  const assertion = parseXml(assertionXml).documentElement;
  if (assertion.localName !== 'Assertion' || assertion.namespaceURI !== ASSERTION) throw rejected('saml.assertion_count', 'The SAML response must carry exactly one assertion.');
  // The one assertion in the document is the one whose signature was checked, not a copy.
  if (!shape.encrypted && attribute(assertion, 'ID') !== shape.assertionId) throw rejected('saml.signature_wrapping', 'The signed assertion is not the assertion of the response.');
  if (!attribute(assertion, 'ID')) throw rejected('saml.assertion_id', 'The assertion has no ID.');
  return assertion;
}

/** The Issuer of the assertion (required) and of the response (optional, SAML Core §3.2.2) is the IdP's entity id. */
export function checkIssuers(response: Element, assertion: Element, idpEntityId: string): void {
  const assertionIssuers = elements('saml:Issuer', assertion);
  const responseIssuers = elements('saml:Issuer', response);
  const ok = assertionIssuers.length === 1 && assertionIssuers[0]!.textContent?.trim() === idpEntityId
    && responseIssuers.length <= 1 && responseIssuers.every((i) => i.textContent?.trim() === idpEntityId);
  if (!ok) throw rejected('saml.issuer_mismatch', 'The SAML response comes from another identity provider than this connection\'s.');
}

/** SAML Core §3.2.2: Destination must be the ACS when present, and is required on a signed Response (Bindings §3.5.5.2). */
export function checkDestination(response: Element, acsUrl: string): void {
  const destination = attribute(response, 'Destination');
  const signed = elements('ds:Signature', response).length > 0;
  if (destination === null && !signed) return;
  if (destination !== acsUrl) throw rejected('saml.destination_mismatch', 'The SAML response was sent to another address than this connection\'s.');
}

function instant(value: string | null, what: string): number | null {
  if (value === null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw rejected('saml.malformed', `The SAML response has an invalid ${what}.`, 400);
  return ms;
}

export interface Confirmation {
  /** From the signed SubjectConfirmationData: the request this answers (null: IdP-initiated). */
  inResponseTo: string | null;
  notOnOrAfter: number;
}

/**
 * SAML Profiles §4.1.4.2-3: one bearer SubjectConfirmation whose data names the ACS as
 * Recipient and has a NotOnOrAfter still in the future (with the skew), on every login,
 * IdP-initiated included (node-saml reads these times only when it validates InResponseTo).
 */
export function checkSubjectConfirmation(assertion: Element, acsUrl: string, skewMs: number, now = Date.now()): Confirmation {
  const confirmations = elements(`saml:Subject/saml:SubjectConfirmation[@Method='${BEARER}']`, assertion);
  const data = confirmations.length === 1 ? elements('saml:SubjectConfirmationData', confirmations[0]!) : [];
  if (data.length !== 1) throw rejected('saml.subject_confirmation', 'The assertion must have one bearer subject confirmation.');
  const scd = data[0]!;
  if (attribute(scd, 'Recipient') !== acsUrl) throw rejected('saml.recipient_mismatch', 'The assertion was issued for another address than this connection\'s.');
  const notOnOrAfter = instant(attribute(scd, 'NotOnOrAfter'), 'NotOnOrAfter');
  if (notOnOrAfter === null || now - skewMs >= notOnOrAfter) throw rejected('saml.subject_expired', 'The assertion has expired. Sign in again.');
  const notBefore = instant(attribute(scd, 'NotBefore'), 'NotBefore');
  if (notBefore !== null && now + skewMs < notBefore) throw rejected('saml.subject_not_yet_valid', 'The assertion is not valid yet. Check the identity provider\'s clock.');
  return { inResponseTo: attribute(scd, 'InResponseTo'), notOnOrAfter };
}

/** The Response's InResponseTo (unsigned when only the assertion is signed) must agree with the signed one. */
export function checkInResponseTo(response: Element, confirmation: Confirmation): string | null {
  const outer = attribute(response, 'InResponseTo');
  if (outer !== null && outer !== confirmation.inResponseTo) throw rejected('saml.in_response_to_mismatch', 'The SAML response does not answer a sign-in started here.');
  return confirmation.inResponseTo;
}

/** How long the assertion ID is remembered: as long as any of its validity windows, plus the skew. */
export function replayExpiry(assertion: Element, confirmation: Confirmation, skewMs: number): Date {
  const conditions = elements('saml:Conditions', assertion)[0];
  const conditionsEnd = conditions ? instant(attribute(conditions, 'NotOnOrAfter'), 'NotOnOrAfter') : null;
  return new Date(Math.max(confirmation.notOnOrAfter, conditionsEnd ?? 0) + skewMs);
}
