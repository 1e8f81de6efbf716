import { AppError, ValidationError } from '../../errors.ts';
import { IdpMetadataError, maxMetadataBytes, parseCertificatePem, parseIdpMetadata, type IdpMetadata } from '../../../saml/idp-metadata.ts';
import type { SamlSettings } from './connection.entity.ts';

/** The IdP half of SamlSettings: what its metadata (or an admin) tells us. */
export type SamlIdpSettings = Pick<SamlSettings, 'idpEntityId' | 'ssoUrl' | 'ssoBinding' | 'certificates' | 'metadataUrl'>;

export interface SamlIdpInput {
  idpMetadataXml?: string;
  idpMetadataUrl?: string;
  idpEntityId?: string;
  ssoUrl?: string;
  ssoBinding?: 'redirect' | 'post';
  certificates?: string[];
}

export const metadataFetchTimeoutMs = 10_000;

/**
 * Fetches IdP metadata: http(s) only, 10 s for the whole exchange, at most 1 MB read. Failures
 * throw IdpMetadataError with a reason an admin can act on (never the body).
 */
export async function fetchIdpMetadata(url: string): Promise<string> {
  if (!/^https?:$/.test(URL.parse(url)?.protocol ?? '')) throw new IdpMetadataError('The metadata URL must be http(s).');
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(metadataFetchTimeoutMs), headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
  } catch (err) {
    throw new IdpMetadataError(`The metadata URL could not be fetched (${fetchFailure(err)}).`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new IdpMetadataError(`The metadata URL answered HTTP ${res.status}.`);
  }
  return readBounded(res);
}

function fetchFailure(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timed out';
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' ? code : 'network error';
}

async function readBounded(res: Response): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > maxMetadataBytes) throw new IdpMetadataError('The metadata is larger than 1 MB.');
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    await res.body?.cancel().catch(() => undefined);
    if (err instanceof IdpMetadataError) throw err;
    throw new IdpMetadataError(`The metadata URL could not be read (${fetchFailure(err)}).`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The IdP settings parsed metadata gives; `binding` is kept when the IdP still offers it. */
export function idpFromMetadata(metadata: IdpMetadata, metadataUrl: string | null, binding?: 'redirect' | 'post'): SamlIdpSettings {
  const ssoBinding = binding && metadata.ssoServices[binding] ? binding : metadata.ssoServices.redirect ? 'redirect' : 'post';
  return { idpEntityId: metadata.entityId, ssoUrl: metadata.ssoServices[ssoBinding]!, ssoBinding, certificates: metadata.certificates, metadataUrl };
}

const sourceFields = 'idpMetadataXml, idpMetadataUrl, or idpEntityId + ssoUrl + certificates';

/**
 * The IdP settings a request asks for: from pasted metadata, fetched metadata or manual fields,
 * exactly one of them. Manual fields are merged onto `current` (a PATCH changing one of them);
 * on create there is no current, so all three are needed.
 */
export async function resolveSamlIdp(input: SamlIdpInput, current: SamlIdpSettings | null): Promise<SamlIdpSettings | null> {
  const manual = input.idpEntityId !== undefined || input.ssoUrl !== undefined || input.certificates !== undefined;
  const given = [input.idpMetadataXml !== undefined, input.idpMetadataUrl !== undefined, manual].filter(Boolean).length;
  if (given > 1) throw new ValidationError([{ field: 'body', message: `give only one of ${sourceFields}` }]);
  if (given === 0) {
    if (!current) throw new ValidationError([{ field: 'body', message: `the IdP is needed: give ${sourceFields}` }]);
    if (input.ssoBinding && input.ssoBinding !== current.ssoBinding) {
      throw new ValidationError([{ field: 'body.ssoBinding', message: 'to change the binding, give the SSO URL (ssoUrl) or the metadata again' }]);
    }
    return null;
  }
  if (input.idpMetadataXml !== undefined) return idpFromMetadata(parsed(input.idpMetadataXml, 'body.idpMetadataXml'), null, input.ssoBinding);
  if (input.idpMetadataUrl !== undefined) {
    const xml = await fetchIdpMetadata(input.idpMetadataUrl).catch((err: unknown) => {
      if (err instanceof IdpMetadataError) throw new AppError('connection.metadata_unreachable', 422, err.message);
      throw err;
    });
    return idpFromMetadata(parsed(xml, 'body.idpMetadataUrl'), input.idpMetadataUrl, input.ssoBinding);
  }
  return manualIdp(input, current);
}

function parsed(xml: string, field: string): IdpMetadata {
  try {
    return parseIdpMetadata(xml);
  } catch (err) {
    if (err instanceof IdpMetadataError) throw new ValidationError([{ field, message: err.message }]);
    throw err;
  }
}

function manualIdp(input: SamlIdpInput, current: SamlIdpSettings | null): SamlIdpSettings {
  const idpEntityId = input.idpEntityId ?? current?.idpEntityId;
  const ssoUrl = input.ssoUrl ?? current?.ssoUrl;
  const certificates = input.certificates ?? current?.certificates;
  if (!idpEntityId || !ssoUrl || !certificates) {
    throw new ValidationError([{ field: 'body', message: 'idpEntityId, ssoUrl and certificates are all needed without metadata' }]);
  }
  return {
    idpEntityId, ssoUrl, certificates: input.certificates ? normalisedCertificates(input.certificates) : certificates,
    ssoBinding: input.ssoBinding ?? current?.ssoBinding ?? 'redirect',
    // Given by hand, the IdP is no longer refreshed from its metadata URL.
    metadataUrl: null,
  };
}

/** Each PEM checked as a certificate, normalised, duplicates dropped. */
function normalisedCertificates(pems: string[]): string[] {
  const byFingerprint = new Map<string, string>();
  pems.forEach((pem, i) => {
    try {
      const cert = parseCertificatePem(pem);
      byFingerprint.set(cert.fingerprint256, cert.toString());
    } catch (err) {
      if (err instanceof IdpMetadataError) throw new ValidationError([{ field: `body.certificates.${i}`, message: 'not a valid X.509 certificate (PEM)' }]);
      throw err;
    }
  });
  return [...byFingerprint.values()];
}
