import { createHmac } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { isTotpCode, matchingStep, newTotpSecret, otpauthUri } from '../../src/modules/users/totp.ts';

// Protocol tests use an independent peer: codes here are computed with node:crypto from RFC 4226
// §5.3 (HOTP) and RFC 6238 §4 (T = floor(time / 30)), not with the library production uses.
function hotp(key: Buffer, counter: number, digits: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

const step = (seconds: number) => Math.floor(seconds / 30);

// RFC 6238 Appendix B, SHA-1 rows: the seed is the ASCII string "12345678901234567890".
const seed = Buffer.from('12345678901234567890', 'ascii');
const seedBase32 = Secret.fromLatin1('12345678901234567890').base32;
const vectors: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('RFC 6238 Appendix B (SHA-1)', () => {
  test.each(vectors)('at T=%d the 8-digit TOTP is %s, by the independent computation and by the library', (time, expected) => {
    expect(hotp(seed, step(time), 8)).toBe(expected);
    expect(TOTP.generate({ secret: Secret.fromBase32(seedBase32), algorithm: 'SHA1', digits: 8, period: 30, timestamp: time * 1000 })).toBe(expected);
  });

  test.each(vectors)('at T=%d a 6-digit code (the last six of %s) matches its own time step', (time, expected) => {
    const code = expected.slice(-6);
    expect(hotp(seed, step(time), 6)).toBe(code);
    expect(matchingStep(seedBase32, code, time * 1000)).toBe(step(time));
  });
});

describe('the window and the code shape', () => {
  const secret = newTotpSecret();
  const key = Buffer.from(Secret.fromBase32(secret).buffer);
  const now = 1_700_000_000_000;
  const t = step(now / 1000);

  test('a new secret is 160 bits of base32', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(key).toHaveLength(20);
    expect(newTotpSecret()).not.toBe(secret);
  });

  test('the codes of the previous and next step are accepted and name their step', () => {
    expect(matchingStep(secret, hotp(key, t - 1, 6), now)).toBe(t - 1);
    expect(matchingStep(secret, hotp(key, t, 6), now)).toBe(t);
    expect(matchingStep(secret, hotp(key, t + 1, 6), now)).toBe(t + 1);
  });

  test('codes two steps away are refused', () => {
    // the RFC seed at a fixed time, whose far codes differ from every code inside the window
    const at = 1111111111;
    const inside = [-1, 0, 1].map((d) => hotp(seed, step(at) + d, 6));
    for (const far of [step(at) - 2, step(at) + 2]) {
      const code = hotp(seed, far, 6);
      expect(inside).not.toContain(code);
      expect(matchingStep(seedBase32, code, at * 1000)).toBeNull();
    }
  });

  test('anything but six digits is not a code', () => {
    for (const bad of ['', '12345', '1234567', '12a456', ' 123456', '１２３４５６']) {
      expect(isTotpCode(bad)).toBe(false);
      expect(matchingStep(secret, bad, now)).toBeNull();
    }
  });

  test('the otpauth URI names the issuer, the account and the parameters apps need', () => {
    const uri = new URL(otpauthUri(secret, 'pat@example.test', 'id.example.test'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/id.example.test:pat@example.test');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ issuer: 'id.example.test', secret, algorithm: 'SHA1', digits: '6', period: '30' });
  });
});
