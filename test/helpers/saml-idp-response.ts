import { randomBytes } from 'node:crypto';
import { encryptAssertion, escapeXml, signElement, type ContentCipher, type KeyPair, type TestIdp } from './saml-idp.ts';

// SAML Responses from templates (SAML Core §2.3.3, §3.2.2), shaped like Okta's, Entra ID's or
// Google Workspace's, with an override for every field a check looks at.

export type IdpShape = 'okta' | 'entra' | 'google';

export interface SpTarget { entityId: string; acsUrl: string; certificatePem: string }

export interface Person { email: string; givenName?: string; familyName?: string; groups?: string[]; objectId?: string }

export interface ResponseOptions {
  shape?: IdpShape;
  /** Which elements carry a signature; by shape: Okta both, Entra the assertion, Google the response. */
  sign?: { response: boolean; assertion: boolean };
  /** The AuthnRequest answered (both InResponseTo attributes); null or absent: IdP-initiated. */
  inResponseTo?: string | null;
  /** Overrides the Response's InResponseTo alone (null: omitted). */
  responseInResponseTo?: string | null;
  destination?: string | null;
  recipient?: string;
  issuer?: string;
  responseIssuer?: string | null;
  status?: string;
  subStatus?: string;
  audience?: string;
  assertionId?: string;
  responseId?: string;
  nameId?: string;
  /** The IdP's clock against ours (ms): every timestamp it writes moves with it. */
  clockOffsetMs?: number;
  /** SubjectConfirmationData NotOnOrAfter, absolute. */
  notOnOrAfter?: Date;
  conditionsNotOnOrAfter?: Date;
  encrypt?: ContentCipher;
  signingKey?: KeyPair;
  doctype?: boolean;
  attributes?: Record<string, string[]>;
  /** Applied to the final XML (after signing and encryption): wrapping and injection attacks. */
  mutate?: (xml: string) => string;
}

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';

/** The attribute statements each IdP sends by default (as admins usually set them up). */
export function shapedAttributes(shape: IdpShape, person: Person): Record<string, string[]> {
  const names = { given: person.givenName ?? 'Pat', family: person.familyName ?? 'Person' };
  if (shape === 'entra') {
    return {
      'http://schemas.microsoft.com/identity/claims/tenantid': ['7f1c2d3e-0000-4000-8000-000000000001'],
      'http://schemas.microsoft.com/identity/claims/objectidentifier': [person.objectId ?? '0d9a6b1e-1111-4111-8111-111111111111'],
      [`${CLAIMS}/emailaddress`]: [person.email], [`${CLAIMS}/givenname`]: [names.given], [`${CLAIMS}/surname`]: [names.family],
      [`${CLAIMS}/name`]: [person.email],
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': person.groups ?? [],
    };
  }
  return { email: [person.email], firstName: [names.given], lastName: [names.family], ...(person.groups ? { groups: person.groups } : {}) };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const newId = () => `_${randomBytes(16).toString('hex')}`;
const attr = (name: string, value: string | null | undefined) => (value === null || value === undefined ? '' : ` ${name}="${escapeXml(value)}"`);

function attributeStatement(attributes: Record<string, string[]>): string {
  const items = Object.entries(attributes).map(([name, values]) => `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">`
    + values.map((v) => `<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${escapeXml(v)}</saml:AttributeValue>`).join('')
    + '</saml:Attribute>');
  return `<saml:AttributeStatement>${items.join('')}</saml:AttributeStatement>`;
}

function assertionXml(idp: TestIdp, sp: SpTarget, person: Person, o: ResponseOptions, id: string, now: number): string {
  const shape = o.shape ?? 'okta';
  const nameId = o.nameId ?? (shape === 'entra' ? person.objectId ?? person.email : person.email);
  const format = shape === 'entra' && !o.nameId ? 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' : 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
  const irt = o.inResponseTo ?? null;
  return `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${iso(now)}">`
    + `<saml:Issuer>${escapeXml(o.issuer ?? idp.entityId)}</saml:Issuer>`
    + `<saml:Subject><saml:NameID Format="${format}">${escapeXml(nameId)}</saml:NameID>`
    + `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${attr('InResponseTo', irt)}`
    + ` NotOnOrAfter="${iso(o.notOnOrAfter?.getTime() ?? now + 5 * 60_000)}" Recipient="${escapeXml(o.recipient ?? sp.acsUrl)}"/></saml:SubjectConfirmation></saml:Subject>`
    + `<saml:Conditions NotBefore="${iso(now - 5_000)}" NotOnOrAfter="${iso(o.conditionsNotOnOrAfter?.getTime() ?? now + 5 * 60_000)}">`
    + `<saml:AudienceRestriction><saml:Audience>${escapeXml(o.audience ?? sp.entityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
    + `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="${newId()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
    + attributeStatement(o.attributes ?? shapedAttributes(shape, person))
    + '</saml:Assertion>';
}

function statusXml(o: ResponseOptions): string {
  const top = o.status ?? 'urn:oasis:names:tc:SAML:2.0:status:Success';
  const sub = o.subStatus ? `<samlp:StatusCode Value="${o.subStatus}"/>` : '';
  return `<samlp:Status><samlp:StatusCode Value="${top}">${sub}</samlp:StatusCode></samlp:Status>`;
}

/** A complete SAMLResponse for `person`, base64 as the HTTP-POST binding carries it (§3.5.4). */
export function samlResponse(idp: TestIdp, sp: SpTarget, person: Person, o: ResponseOptions = {}): { xml: string; base64: string; assertionId: string } {
  const shape = o.shape ?? 'okta';
  const sign = o.sign ?? { response: shape !== 'entra', assertion: shape !== 'google' };
  const key = o.signingKey ?? idp;
  const now = Date.now() + (o.clockOffsetMs ?? 0);
  const assertionId = o.assertionId ?? newId();
  const responseId = o.responseId ?? newId();
  let assertion = assertionXml(idp, sp, person, o, assertionId, now);
  if (sign.assertion) assertion = signElement(assertion, assertionId, key);
  if (o.encrypt) assertion = encryptAssertion(assertion, sp.certificatePem, o.encrypt);
  const outerIrt = o.responseInResponseTo !== undefined ? o.responseInResponseTo : o.inResponseTo ?? null;
  const destination = o.destination === undefined ? sp.acsUrl : o.destination;
  const responseIssuer = o.responseIssuer === undefined ? idp.entityId : o.responseIssuer;
  let xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${responseId}" Version="2.0" IssueInstant="${iso(now)}"`
    + `${attr('Destination', destination)}${attr('InResponseTo', outerIrt)}>`
    + (responseIssuer === null ? '' : `<saml:Issuer>${escapeXml(responseIssuer)}</saml:Issuer>`)
    + statusXml(o) + assertion + '</samlp:Response>';
  if (sign.response) xml = signElement(xml, responseId, key);
  xml = `<?xml version="1.0" encoding="UTF-8"?>${o.doctype ? '<!DOCTYPE samlp:Response [<!ENTITY who "attacker@evil.example.test">]>' : ''}${xml}`;
  if (o.mutate) xml = o.mutate(xml);
  return { xml, base64: Buffer.from(xml, 'utf8').toString('base64'), assertionId };
}
