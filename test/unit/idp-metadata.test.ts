import { X509Certificate } from 'node:crypto';
import { IdpMetadataError, parseCertificatePem, parseIdpMetadata, summarizeCertificate } from '../../saml/idp-metadata.ts';
import { certificateBody, entraMetadata, oktaEntityId, oktaMetadata, oktaSsoUrl, testCertificate } from '../helpers/idp-metadata.ts';

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';

let okta: string;
let entra: { signing: string; next: string; metadataSigning: string; wsfed: string };
beforeAll(() => {
  okta = testCertificate('Okta acme');
  entra = { signing: testCertificate('Microsoft Azure Federated SSO Certificate'), next: testCertificate('Microsoft Azure Federated SSO Certificate 2'), metadataSigning: testCertificate('accounts.accesscontrol.windows.net'), wsfed: testCertificate('wsfed') };
});

/** A minimal IdP EntityDescriptor around `inner` (the IDPSSODescriptor's children). */
function idp(inner: string, entity = 'https://idp.example.test/'): string {
  return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entity}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${inner}</md:IDPSSODescriptor></md:EntityDescriptor>`;
}
const key = (pem: string, use?: string) => `<md:KeyDescriptor${use ? ` use="${use}"` : ''}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const sso = (binding: string, location = 'https://idp.example.test/sso') => `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${binding}" Location="${location}"/>`;

function refused(xml: string, message: RegExp): void {
  expect(() => parseIdpMetadata(xml)).toThrow(IdpMetadataError);
  expect(() => parseIdpMetadata(xml)).toThrow(message);
}

test('Okta metadata: entity id, both SSO bindings and its signing certificate', () => {
  const parsed = parseIdpMetadata(oktaMetadata(okta));
  expect(parsed.entityId).toBe(oktaEntityId);
  expect(parsed.ssoServices).toEqual({ redirect: oktaSsoUrl, post: oktaSsoUrl });
  expect(parsed.certificates).toHaveLength(1);
  expect(parsed.certificates[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  expect(fingerprint(parsed.certificates[0]!)).toBe(fingerprint(okta));
});

test('Entra metadata: only the IDPSSODescriptor keys, both during rollover; not the metadata signature or WS-Fed keys', () => {
  const parsed = parseIdpMetadata(entraMetadata(tenant, entra));
  expect(parsed.entityId).toBe(`https://sts.windows.net/${tenant}/`);
  expect(parsed.ssoServices).toEqual({ redirect: `https://login.microsoftonline.com/${tenant}/saml2`, post: `https://login.microsoftonline.com/${tenant}/saml2` });
  expect(parsed.certificates.map(fingerprint)).toEqual([fingerprint(entra.signing), fingerprint(entra.next)]);
});

test('a KeyDescriptor without use counts as signing; use="encryption" does not', () => {
  const enc = testCertificate('enc');
  const parsed = parseIdpMetadata(idp(key(okta) + key(enc, 'encryption') + sso('HTTP-POST')));
  expect(parsed.certificates.map(fingerprint)).toEqual([fingerprint(okta)]);
  expect(parsed.ssoServices).toEqual({ post: 'https://idp.example.test/sso' });
});

test('the same certificate twice is listed once', () => {
  expect(parseIdpMetadata(idp(key(okta, 'signing') + key(okta) + sso('HTTP-Redirect'))).certificates).toHaveLength(1);
});

test('one EntityDescriptor inside an EntitiesDescriptor is accepted', () => {
  const xml = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${idp(key(okta) + sso('HTTP-Redirect'))}</md:EntitiesDescriptor>`;
  expect(parseIdpMetadata(xml).entityId).toBe('https://idp.example.test/');
});

test('a DOCTYPE is refused before parsing (XXE, entity expansion)', () => {
  const xxe = `<?xml version="1.0"?><!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>${idp(key(okta) + sso('HTTP-Redirect', 'https://idp.example.test/&x;'))}`;
  refused(xxe, /DOCTYPE/);
  refused(`<!doctype foo>${idp(key(okta) + sso('HTTP-Redirect'))}`, /DOCTYPE/);
});

test('metadata over 1 MB is refused', () => {
  refused(idp(key(okta) + sso('HTTP-Redirect') + `<!--${'x'.repeat(1024 * 1024)}-->`), /1 MB/);
});

test('SP metadata (no IDPSSODescriptor) is refused', () => {
  const sp = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="sp"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`;
  refused(sp, /no SAML 2\.0 IDPSSODescriptor/);
});

test('an IDPSSODescriptor without the SAML 2.0 protocol is refused', () => {
  refused(idp(key(okta) + sso('HTTP-Redirect')).replace('urn:oasis:names:tc:SAML:2.0:protocol', 'urn:oasis:names:tc:SAML:1.1:protocol'), /no SAML 2\.0 IDPSSODescriptor/);
});

test('metadata without a signing certificate is refused', () => {
  refused(idp(sso('HTTP-Redirect')), /no signing certificate/);
  refused(idp(key(okta, 'encryption') + sso('HTTP-Redirect')), /no signing certificate/);
});

test('metadata without a Redirect or POST SingleSignOnService is refused', () => {
  refused(idp(key(okta)), /no SingleSignOnService/);
  refused(idp(key(okta) + sso('SOAP')), /no SingleSignOnService/);
});

test('a SingleSignOnService location that is not http(s) is refused', () => {
  refused(idp(key(okta) + sso('HTTP-Redirect', 'javascript:alert(1)')), /not an http\(s\) URL/);
});

test('a certificate that is not base64 or not a certificate is refused', () => {
  refused(idp(key(okta).replace(certificateBody(okta), 'not*base64') + sso('HTTP-Redirect')), /not base64/);
  refused(idp(key(okta).replace(certificateBody(okta), Buffer.from('hello').toString('base64')) + sso('HTTP-Redirect')), /not a valid certificate/);
});

test('several IdPs in one document are refused', () => {
  const two = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${idp(key(okta) + sso('HTTP-Redirect'), 'a')}${idp(key(okta) + sso('HTTP-Redirect'), 'b')}</md:EntitiesDescriptor>`;
  refused(two, /several IdPs/);
});

test('malformed XML and a missing entityID are refused', () => {
  refused('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><unclosed>', /./);
  refused('not xml at all', /./);
  refused(idp(key(okta) + sso('HTTP-Redirect')).replace('entityID="https://idp.example.test/"', ''), /no entityID/);
});

test('parseCertificatePem takes a PEM or a bare base64 body and refuses anything else', () => {
  expect(parseCertificatePem(okta).fingerprint256).toBe(fingerprint(okta));
  expect(parseCertificatePem(certificateBody(okta)).fingerprint256).toBe(fingerprint(okta));
  expect(() => parseCertificatePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(IdpMetadataError);
  expect(() => parseCertificatePem('hello')).toThrow(IdpMetadataError);
});

test('summarizeCertificate gives the fingerprint, subject and expiry', () => {
  const short = testCertificate('Short lived', 10);
  const summary = summarizeCertificate(short);
  expect(summary.fingerprintSha256).toBe(fingerprint(short));
  expect(summary.subject).toBe('CN=Short lived');
  expect(Math.round((summary.notAfter.getTime() - Date.now()) / 86_400_000)).toBe(10);
});
