import { constants, createCipheriv, createVerify, publicEncrypt, randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { generateSpCredentials } from '../../saml/sp-credentials.ts';

// A SAML IdP for tests, independent of the SP's library (node-saml): responses are built from
// templates, signed with xml-crypto's SignedXml directly and encrypted by hand with node:crypto,
// so that tests can craft every variant an attacker or a misconfigured IdP would send.

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

export interface KeyPair { privateKeyPem: string; certificatePem: string }

export interface TestIdp extends KeyPair {
  entityId: string;
  ssoUrl: string;
}

/** A new IdP with its own signing key and self-signed certificate. */
export function testIdp(name = `idp-${randomBytes(4).toString('hex')}`): TestIdp {
  return { entityId: `https://${name}.idp.example.test/saml`, ssoUrl: `https://${name}.idp.example.test/sso`, ...generateSpCredentials(name) };
}

export interface AuthnRequestInfo { id: string; acsUrl: string; issuer: string; destination: string; signed: boolean }

function readAuthnRequest(xml: string, signed: boolean): AuthnRequestInfo {
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement!;
  if (root.localName !== 'AuthnRequest') throw new Error(`not an AuthnRequest: ${xml.slice(0, 200)}`);
  const issuer = root.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer')[0]?.textContent ?? '';
  return { id: root.getAttribute('ID')!, acsUrl: root.getAttribute('AssertionConsumerServiceURL')!, destination: root.getAttribute('Destination')!, issuer, signed };
}

/** HTTP-Redirect binding (SAML Bindings §3.4.4.1): inflate SAMLRequest; verify the query signature with the SP certificate. */
export function readRedirectRequest(location: string, spCertificate: string): AuthnRequestInfo {
  const url = new URL(location);
  const raw = url.search.slice(1).split('&');
  const param = (name: string) => raw.find((p) => p.startsWith(`${name}=`));
  const signedOver = ['SAMLRequest', 'RelayState', 'SigAlg'].map(param).filter(Boolean).join('&');
  if (url.searchParams.get('SigAlg') !== 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256') throw new Error('AuthnRequest not signed with rsa-sha256');
  const signed = createVerify('RSA-SHA256').update(signedOver).verify(spCertificate, url.searchParams.get('Signature') ?? '', 'base64');
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
  return readAuthnRequest(xml, signed);
}

/** HTTP-POST binding (§3.5.4): base64 XML (no DEFLATE) with an enveloped XML signature by the SP certificate. */
export function readPostRequest(samlRequest: string, spCertificate: string): AuthnRequestInfo {
  const xml = Buffer.from(samlRequest, 'base64').toString('utf8');
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = doc.getElementsByTagNameNS(DSIG, 'Signature')[0];
  let signed = false;
  if (signature) {
    const sig = new SignedXml({ publicCert: spCertificate });
    sig.loadSignature(signature as unknown as Node);
    signed = sig.checkSignature(xml);
  }
  return readAuthnRequest(xml, signed);
}

/** An enveloped rsa-sha256 signature over the element with `id`, placed after its Issuer (SAML Core §5.4.1). */
export function signElement(xml: string, id: string, key: KeyPair): string {
  const sig = new SignedXml({
    privateKey: key.privateKeyPem, publicCert: key.certificatePem,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({ xpath: `//*[@ID='${id}']`, transforms: [`${DSIG}enveloped-signature`, EXC_C14N], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
  const issuer = `//*[@ID='${id}']/*[local-name()='Issuer']`;
  const hasIssuer = new RegExp(`ID="${id}"[^>]*>\\s*<saml:Issuer`).test(xml);
  sig.computeSignature(xml, { prefix: 'ds', location: hasIssuer ? { reference: issuer, action: 'after' } : { reference: `//*[@ID='${id}']`, action: 'prepend' } });
  return sig.getSignedXml();
}

export type ContentCipher = 'aes256-cbc' | 'aes128-gcm';

/**
 * XML Encryption 1.1 by hand: the assertion encrypted with a fresh content key (AES-256-CBC or
 * AES-128-GCM, the IV in front of the cipher text, the GCM tag after it), the key transported
 * with RSA-OAEP (mgf1p, SHA-1) to the SP certificate, in EncryptedAssertion/EncryptedData/
 * KeyInfo/EncryptedKey (SAML Core §2.3.4).
 */
export function encryptAssertion(assertionXml: string, spCertificate: string, cipher: ContentCipher = 'aes256-cbc'): string {
  const gcm = cipher === 'aes128-gcm';
  const key = randomBytes(gcm ? 16 : 32);
  const iv = randomBytes(gcm ? 12 : 16);
  const c = createCipheriv(gcm ? 'aes-128-gcm' : 'aes-256-cbc', key, iv);
  const body = Buffer.concat([iv, c.update(assertionXml, 'utf8'), c.final(), gcm ? (c as ReturnType<typeof createCipheriv> & { getAuthTag(): Buffer }).getAuthTag() : Buffer.alloc(0)]);
  const wrapped = publicEncrypt({ key: spCertificate, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key);
  const algorithm = gcm ? 'http://www.w3.org/2009/xmlenc11#aes128-gcm' : 'http://www.w3.org/2001/04/xmlenc#aes256-cbc';
  return `<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">`
    + `<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">`
    + `<xenc:EncryptionMethod Algorithm="${algorithm}"/>`
    + `<ds:KeyInfo xmlns:ds="${DSIG}"><xenc:EncryptedKey>`
    + `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"><ds:DigestMethod Algorithm="${DSIG}sha1"/></xenc:EncryptionMethod>`
    + `<xenc:CipherData><xenc:CipherValue>${wrapped.toString('base64')}</xenc:CipherValue></xenc:CipherData>`
    + `</xenc:EncryptedKey></ds:KeyInfo>`
    + `<xenc:CipherData><xenc:CipherValue>${body.toString('base64')}</xenc:CipherValue></xenc:CipherData>`
    + `</xenc:EncryptedData></saml:EncryptedAssertion>`;
}

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
