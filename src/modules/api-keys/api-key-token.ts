import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

// API keys look like gh_<keyid>_<secret> (DESIGN.md). The key id is public and finds the row;
// the secret has 192 random bits, so a fast keyed hash (HMAC-SHA256 under a key derived from
// GATEHOUSE_SECRET_KEY) is enough: a stolen table alone cannot be used to test guesses.
const format = /^gh_([0-9a-f]{16})_([0-9a-f]{48})$/;

export interface IssuedKey {
  id: string;
  token: string;
  secretHash: string;
}

export class ApiKeyTokens {
  readonly #hmacKey: Buffer;

  constructor(secretKey: string) {
    this.#hmacKey = Buffer.from(hkdfSync('sha256', Buffer.from(secretKey), Buffer.alloc(0), 'gatehouse api-key hash v1', 32));
  }

  issue(): IssuedKey {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(24).toString('hex');
    return { id, token: `gh_${id}_${secret}`, secretHash: this.hash(secret) };
  }

  /** Splits a presented token; null when it is not shaped like one of ours. */
  parse(token: string): { id: string; secret: string } | null {
    const m = format.exec(token);
    return m ? { id: m[1]!, secret: m[2]! } : null;
  }

  verify(secret: string, storedHash: string): boolean {
    const a = Buffer.from(this.hash(secret), 'hex');
    const b = Buffer.from(storedHash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  hash(secret: string): string {
    return createHmac('sha256', this.#hmacKey).update(secret).digest('hex');
  }
}
