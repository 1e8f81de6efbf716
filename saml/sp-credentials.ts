import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * A new SP key pair and its self-signed certificate for one connection: AuthnRequests are signed
 * with it and IdPs encrypt assertions to it (the SP metadata carries the certificate; IdPs do not
 * check an SP certificate's dates, so ten years). RSA, because XML encryption's key transport
 * (RSA-OAEP) needs it. The key comes from node:crypto; node-forge only builds the certificate,
 * which node:crypto cannot. `validDays` shortens the validity (tests of expiring IdP certificates).
 */
export function generateSpCredentials(commonName: string, opts: { validDays?: number } = {}): { privateKeyPem: string; certificatePem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets.
  cert.serialNumber = `7${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(cert.validity.notBefore.getTime() + (opts.validDays ?? 10 * 365) * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: commonName.slice(0, 64) }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  return { privateKeyPem, certificatePem: forge.pki.certificateToPem(cert) };
}
