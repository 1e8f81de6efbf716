import { readFileSync } from 'node:fs';
import { generateSpCredentials } from '../../saml/sp-credentials.ts';

// IdP metadata documents shaped like Okta's and Entra's (test/fixtures/saml/), with certificates
// made for the test templated in.

const fixtures = new URL('../fixtures/saml/', import.meta.url);

/** A PEM certificate's base64 body, as metadata carries it in ds:X509Certificate. */
export function certificateBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

/** A fresh self-signed certificate (PEM); `validDays` makes a short-lived one. */
export function testCertificate(cn = 'Test IdP', validDays?: number): string {
  return generateSpCredentials(cn, { validDays }).certificatePem;
}

function template(name: string, values: Record<string, string>): string {
  return readFileSync(new URL(name, fixtures), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`fixture ${name} needs ${key}`);
    return value;
  });
}

/** Okta's app metadata: a plain EntityDescriptor with one signing certificate. */
export function oktaMetadata(signingCertPem: string): string {
  return template('okta-metadata.xml', { SIGNING_CERT: certificateBody(signingCertPem) });
}

export const oktaEntityId = 'http://www.okta.com/exk8gatehouse5d7Xa697';
export const oktaSsoUrl = 'https://acme.okta.com/app/acme_gatehouse_1/exk8gatehouse5d7Xa697/sso/saml';

export interface EntraCertificates {
  signing: string;
  /** A second IDPSSODescriptor key, as during Entra's certificate rollover. */
  next: string;
  /** Keys elsewhere in the document that are not the IdP's SAML signing keys. */
  metadataSigning: string;
  wsfed: string;
}

/** Entra's federationmetadata.xml: signed, RoleDescriptors and an SPSSODescriptor before the IDPSSODescriptor. */
export function entraMetadata(tenant: string, certs: EntraCertificates): string {
  return template('entra-federationmetadata.xml', {
    TENANT: tenant,
    SIGNING_CERT: certificateBody(certs.signing),
    NEXT_SIGNING_CERT: certificateBody(certs.next),
    METADATA_SIGNING_CERT: certificateBody(certs.metadataSigning),
    WSFED_CERT: certificateBody(certs.wsfed),
  });
}
