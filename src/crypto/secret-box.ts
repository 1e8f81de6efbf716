import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';

// Secrets at rest (signing keys, IdP client secrets, SAML keys): AES-256-GCM under a key derived
// from GATEHOUSE_SECRET_KEY, so a dump of the database alone reveals none of them. The sealed form
// is one text value, `v1.<iv>.<ciphertext>.<tag>` (base64url), so a later version can change the
// scheme and still open old values. The associated data (the row's id) is authenticated but not
// stored: a ciphertext copied into another row does not open there.
const version = 'v1';
const ivBytes = 12; // NIST SP 800-38D §8.2: a random 96-bit IV per message
const tagBytes = 16;
const sealed = /^v1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]+)$/;

/** A sealed secret that does not open: the wrong key, the wrong row, or altered text. */
export class SecretBoxError extends AppError {
  constructor(detail: string, cause?: unknown) {
    super('secret_box.undecryptable', 500, detail, { cause });
  }
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(secretKey: string) {
    this.#key = Buffer.from(hkdfSync('sha256', Buffer.from(secretKey), Buffer.alloc(0), 'gatehouse secret-box v1', 32));
  }

  /** Encrypts `plaintext`, bound to `associatedData` (which must be given again to open it). */
  seal(plaintext: string, associatedData = ''): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: tagBytes });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${version}.${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  /** The plaintext of a value made by `seal` with the same key and associated data; else throws. */
  open(value: string, associatedData = ''): string {
    const m = sealed.exec(value);
    if (!m) throw new SecretBoxError(value.startsWith(`${version}.`) ? 'sealed secret is malformed' : 'sealed secret has an unknown version');
    const [iv, ciphertext, tag] = [decode(m[1]!), decode(m[2]!), decode(m[3]!)];
    if (!iv || iv.length !== ivBytes || !ciphertext || !tag || tag.length !== tagBytes) throw new SecretBoxError('sealed secret is malformed');
    // authTagLength pins the tag size: GCM would otherwise accept a truncated (weaker) tag.
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: tagBytes });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new SecretBoxError('sealed secret does not open: GATEHOUSE_SECRET_KEY differs from the one that sealed it, it belongs to another row, or it was altered', err);
    }
  }
}

// Node's base64url decoder skips characters it does not know and ignores a last character's
// spare bits; only the canonical spelling is accepted, so every altered character is refused.
function decode(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}
