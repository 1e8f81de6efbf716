import { summarizeCertificate } from '../../../saml/idp-metadata.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import type { OrgScope } from '../scope.ts';
import type { Connection } from './connection.entity.ts';

/** An IdP certificate this close to its end is reported (API field and one audit event). */
export const expiryWarningMs = 30 * 24 * 3600 * 1000;

export interface CertificateView {
  pem: string;
  fingerprintSha256: string;
  subject: string;
  notAfter: Date;
  expiresSoon: boolean;
  expired: boolean;
}

export function describeCertificates(pems: readonly string[], now = new Date()): CertificateView[] {
  return pems.map((pem) => {
    const summary = summarizeCertificate(pem);
    const left = summary.notAfter.getTime() - now.getTime();
    return { pem, ...summary, expiresSoon: left > 0 && left <= expiryWarningMs, expired: left <= 0 };
  });
}

/**
 * Records `connection.certificate_expiring` once per IdP certificate that ends within 30 days
 * (or has ended): SamlSettings.warnedFingerprints remembers which were reported, and forgets
 * those the IdP no longer lists. The caller flushes; the caller's transaction holds the row.
 */
export async function warnExpiringCertificates(scope: OrgScope, connection: Connection, now = new Date()): Promise<void> {
  const saml = connection.saml;
  if (!saml) return;
  const warned = new Set(saml.warnedFingerprints ?? []);
  const current = describeCertificates(saml.certificates, now);
  for (const cert of current) {
    if (warned.has(cert.fingerprintSha256) || !(cert.expiresSoon || cert.expired)) continue;
    warned.add(cert.fingerprintSha256);
    await recordAudit(scope, {
      type: 'connection.certificate_expiring',
      target: { type: 'connection', id: connection.id },
      after: { fingerprintSha256: cert.fingerprintSha256, subject: cert.subject, notAfter: cert.notAfter, expired: cert.expired },
    });
  }
  const kept = current.map((c) => c.fingerprintSha256).filter((f) => warned.has(f));
  if (kept.join() !== (saml.warnedFingerprints ?? []).join()) connection.saml = { ...saml, warnedFingerprints: kept };
}
