import { X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import xpath from 'xpath';

/** What an SP needs from an IdP's metadata (SAML 2.0 Metadata §2.4.3 IDPSSODescriptor). */
export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService Location per binding; at least one is set. */
  ssoServices: { redirect?: string; post?: string };
  /** Signing certificates as PEM, several while the IdP rotates; duplicates removed. */
  certificates: string[];
}

/** Metadata we refuse; the message is safe to show the admin who pasted or linked it. */
export class IdpMetadataError extends Error {}

/** Metadata documents are a few kilobytes; this bound keeps a hostile one from costing much. */
export const maxMetadataBytes = 1024 * 1024;

const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const BINDINGS = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;

const select = xpath.useNamespaces({
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
});

/**
 * Parses an IdP's metadata. Pure: no fetching, no clock. The IdP's own certificates come from
 * IDPSSODescriptor KeyDescriptors only (use="signing" or no use): Entra's metadata also carries a
 * ds:Signature and RoleDescriptors with keys, which are not the keys its assertions are signed with.
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  const doc = parseDocument(xml);
  const idp = idpDescriptor(doc);
  const entity = idp.parentNode as Element;
  const entityId = entity.getAttribute('entityID')?.trim();
  if (!entityId) throw new IdpMetadataError('The EntityDescriptor has no entityID.');
  return { entityId, ssoServices: ssoServices(idp), certificates: signingCertificates(idp) };
}

function parseDocument(xml: string): Document {
  if (Buffer.byteLength(xml, 'utf8') > maxMetadataBytes) throw new IdpMetadataError('The metadata is larger than 1 MB.');
  // A DOCTYPE brings entity expansion and external entities (XXE); metadata never needs one.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new IdpMetadataError('The metadata contains a DOCTYPE, which is not allowed.');
  const fail = (message: string) => { throw new IdpMetadataError(`The metadata is not well-formed XML: ${message.split('\n')[0]}`); };
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: fail, fatalError: fail } }).parseFromString(xml, 'text/xml');
  if (!doc?.documentElement) throw new IdpMetadataError('The metadata is not an XML document.');
  return doc as unknown as Document;
}

/** The one SAML 2.0 IDPSSODescriptor (a bare EntityDescriptor, or one inside EntitiesDescriptor). */
function idpDescriptor(doc: Document): Element {
  const all = select('//md:EntityDescriptor/md:IDPSSODescriptor', doc) as Element[];
  const saml2 = all.filter((d) => (d.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL));
  if (saml2.length === 0) throw new IdpMetadataError('The metadata has no SAML 2.0 IDPSSODescriptor: is this the IdP\'s metadata?');
  const entities = new Set(saml2.map((d) => d.parentNode));
  if (entities.size > 1) throw new IdpMetadataError('The metadata describes several IdPs; give the metadata of one.');
  return saml2[0]!;
}

function ssoServices(idp: Element): IdpMetadata['ssoServices'] {
  const services: IdpMetadata['ssoServices'] = {};
  for (const [binding, uri] of Object.entries(BINDINGS) as [keyof typeof BINDINGS, string][]) {
    const location = (select(`md:SingleSignOnService[@Binding="${uri}"]/@Location`, idp) as Attr[])[0]?.value.trim();
    if (location) services[binding] = httpUrl(location);
  }
  if (!services.redirect && !services.post) throw new IdpMetadataError('The metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding.');
  return services;
}

function httpUrl(location: string): string {
  const url = URL.parse(location);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new IdpMetadataError(`The SingleSignOnService location "${location.slice(0, 200)}" is not an http(s) URL.`);
  return url.href;
}

function signingCertificates(idp: Element): string[] {
  const nodes = select('md:KeyDescriptor[not(@use) or @use="signing"]/ds:KeyInfo/ds:X509Data/ds:X509Certificate', idp) as Element[];
  const pems = new Map<string, string>();
  for (const node of nodes) {
    const cert = certificateFromBase64(node.textContent ?? '');
    pems.set(cert.fingerprint256, cert.toString());
  }
  if (pems.size === 0) throw new IdpMetadataError('The metadata has no signing certificate in its IDPSSODescriptor.');
  return [...pems.values()];
}

function certificateFromBase64(text: string): X509Certificate {
  const base64 = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new IdpMetadataError('An X509Certificate in the metadata is not base64.');
  try {
    return new X509Certificate(Buffer.from(base64, 'base64'));
  } catch {
    throw new IdpMetadataError('An X509Certificate in the metadata is not a valid certificate.');
  }
}

/** A PEM certificate as given by an admin, checked and normalised; throws IdpMetadataError. */
export function parseCertificatePem(pem: string): X509Certificate {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  // A bare base64 body (as IdP consoles often show it) is accepted too.
  return certificateFromBase64(body ?? pem);
}

export interface CertificateSummary {
  fingerprintSha256: string;
  subject: string;
  notAfter: Date;
}

/** What an admin needs to recognise a certificate and see when it lapses. */
export function summarizeCertificate(pem: string): CertificateSummary {
  const cert = new X509Certificate(pem);
  return { fingerprintSha256: cert.fingerprint256, subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo) };
}
