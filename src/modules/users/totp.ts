import { Secret, TOTP } from 'otpauth';

// RFC 6238 TOTP as authenticator apps implement it: HMAC-SHA-1, 6 digits, 30-second steps. A
// code is accepted one step either side of now (RFC 6238 §5.2 allows for clock drift and the
// time it takes to type); which step matched is returned so that each step is used once.
const params = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
const window = 1;
const codeShape = /^\d{6}$/;

/** A new random secret: 160 bits (RFC 4226 §4 recommends 160), in base32 as apps take it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app enrols from (the Key URI Format apps share). */
export function otpauthUri(secretBase32: string, account: string, issuer: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secretBase32), ...params }).toString();
}

export function isTotpCode(code: string): boolean {
  return codeShape.test(code);
}

/** The time step (counter) `code` belongs to within the window around `now`, or null. */
export function matchingStep(secretBase32: string, code: string, now = Date.now()): number | null {
  if (!isTotpCode(code)) return null;
  const delta = TOTP.validate({ token: code, secret: Secret.fromBase32(secretBase32), ...params, timestamp: now, window });
  return delta === null ? null : TOTP.counter({ period: params.period, timestamp: now }) + delta;
}
