import { createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

// API keys look like gh_<keyid>_<secret> (DESIGN.md); the platform team's keys, which belong to
// no org, look like ghp_<keyid>_<secret>, so neither can pass for the other. The key id is public
// and finds the row; the secret has 192 random bits, so a fast keyed hash (HMAC-SHA256 under a
// key derived from GATEHOUSE_SECRET_KEY) is enough: a stolen table alone cannot be used to test
// guesses. Each kind hashes under its own derived key, so a hash never verifies across kinds.
// A setup link's token (issue 8) looks like ghs_<linkid>_<secret>, hashed under a key of its own.
// A SCIM directory's bearer token looks like ghscim_<secret>: the directory id in the SCIM URL
// finds the row, so the token carries no key id.
export type KeyKind = 'org' | 'platform' | 'setup';
type HashKind = KeyKind | 'scim';
const scimShape = /^ghscim_([0-9a-f]{48})$/;
const scimInfo = 'gatehouse scim-token hash v1';

const formats: Record<KeyKind, { prefix: string; shape: RegExp; info: string }> = {
  org: { prefix: 'gh', shape: /^gh_([0-9a-f]{16})_([0-9a-f]{48})$/, info: 'gatehouse api-key hash v1' },
  platform: { prefix: 'ghp', shape: /^ghp_([0-9a-f]{16})_([0-9a-f]{48})$/, info: 'gatehouse platform-key hash v1' },
  setup: { prefix: 'ghs', shape: /^ghs_([0-9a-f]{16})_([0-9a-f]{48})$/, info: 'gatehouse setup-link hash v1' },
};

export interface IssuedKey {
  id: string;
  token: string;
  secretHash: string;
}

export class ApiKeyTokens {
  // KeyObjects, made once: createHmac imports a Buffer key on every call (measured ~11.7 µs per
  // HMAC with a Buffer key, ~2.2 µs with a KeyObject), and the gateway hashes on every request.
  readonly #hmacKeys: Record<HashKind, KeyObject>;

  constructor(secretKey: string) {
    const derive = (info: string) => createSecretKey(Buffer.from(hkdfSync('sha256', Buffer.from(secretKey), Buffer.alloc(0), info, 32)));
    this.#hmacKeys = { org: derive(formats.org.info), platform: derive(formats.platform.info), setup: derive(formats.setup.info), scim: derive(scimInfo) };
  }

  issue(kind: KeyKind = 'org'): IssuedKey {
    return this.reissue(randomBytes(8).toString('hex'), kind);
  }

  /** A new secret for an existing key id (rotation): the id, and so the row, stays the same. */
  reissue(id: string, kind: KeyKind = 'org'): IssuedKey {
    const secret = randomBytes(24).toString('hex');
    return { id, token: `${formats[kind].prefix}_${id}_${secret}`, secretHash: this.hash(secret, kind) };
  }

  /** Splits a presented token; null when it is not shaped like one of ours of that kind. */
  parse(token: string, kind: KeyKind = 'org'): { id: string; secret: string } | null {
    const m = formats[kind].shape.exec(token);
    return m ? { id: m[1]!, secret: m[2]! } : null;
  }

  /** A new SCIM directory token and the keyed hash of its secret (the only thing stored). */
  issueDirectoryToken(): { token: string; secretHash: string } {
    const secret = randomBytes(24).toString('hex');
    return { token: `ghscim_${secret}`, secretHash: this.hash(secret, 'scim') };
  }

  /** The secret of a presented SCIM token; null when it is not shaped like one. */
  parseDirectoryToken(token: string): string | null {
    return scimShape.exec(token)?.[1] ?? null;
  }

  /** Whether `secret` hashes to `storedHash` (hex as stored, or already decoded), in constant time. */
  verify(secret: string, storedHash: string | Buffer, kind: HashKind = 'org'): boolean {
    return sameDigest(this.digest(secret, kind), typeof storedHash === 'string' ? Buffer.from(storedHash, 'hex') : storedHash);
  }

  /** The keyed hash as stored (hex). */
  hash(secret: string, kind: HashKind = 'org'): string {
    return this.digest(secret, kind).toString('hex');
  }

  /** The keyed hash's bytes: compared as they are, without a hex string per request. */
  digest(secret: string, kind: HashKind = 'org'): Buffer {
    return createHmac('sha256', this.#hmacKeys[kind]).update(secret).digest();
  }
}

/** Constant-time equality of two digests; a stored hash of another length (a bad row) never matches. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
