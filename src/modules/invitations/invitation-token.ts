import { createHash, randomBytes } from 'node:crypto';

// An invitation token is 32 random bytes (base64url, 43 characters). Only its SHA-256 is stored:
// with 256 bits of entropy a plain hash cannot be reversed by guessing, so no key or salt is needed.
const shape = /^[A-Za-z0-9_-]{43}$/;

export interface IssuedInvitationToken {
  token: string;
  tokenHash: string;
}

export function issueInvitationToken(): IssuedInvitationToken {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashInvitationToken(token) };
}

export function hashInvitationToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Tokens not shaped like ours are not looked up at all. */
export function isInvitationToken(value: string): boolean {
  return shape.test(value);
}
