import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError } from '../../src/crypto/secret-box.ts';

const key = randomBytes(32).toString('base64url');
const box = new SecretBox(key);

/** Flips one character of part `index` of a sealed value (0 = version, 1 = iv, 2 = ciphertext, 3 = tag). */
function alter(sealed: string, index: number, at = 0): string {
  const parts = sealed.split('.');
  const part = parts[index]!;
  const swapped = part[at] === 'A' ? 'B' : 'A';
  parts[index] = part.slice(0, at) + swapped + part.slice(at + 1);
  return parts.join('.');
}

test('a sealed secret opens with the same key and associated data', () => {
  const secret = JSON.stringify({ kty: 'EC', d: 'very secret', note: 'ünïcødé ✓' });
  const sealed = box.seal(secret, 'row-1');
  expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
  expect(sealed).not.toContain('very');
  expect(box.open(sealed, 'row-1')).toBe(secret);
  expect(new SecretBox(key).open(sealed, 'row-1')).toBe(secret);
});

test('an empty secret and absent associated data round-trip', () => {
  expect(box.open(box.seal(''))).toBe('');
  expect(box.open(box.seal('x'), '')).toBe('x');
});

test('every seal uses a fresh IV, so equal secrets do not look equal', () => {
  const sealed = Array.from({ length: 50 }, () => box.seal('same secret', 'row-1'));
  expect(new Set(sealed.map((s) => s.split('.')[1])).size).toBe(50);
  expect(new Set(sealed).size).toBe(50);
});

test.each([
  ['the version', 0],
  ['the IV', 1],
  ['the ciphertext', 2],
  ['the tag', 3],
])('altering %s is refused', (_name, index) => {
  const sealed = box.seal('a long enough secret to alter', 'row-1');
  for (const at of [0, sealed.split('.')[index]!.length - 1]) {
    expect(() => box.open(alter(sealed, index, at), 'row-1')).toThrow(SecretBoxError);
  }
});

test('the last character of a part cannot be swapped for one with the same bits', () => {
  // a 16-byte tag is 22 base64url characters, the last carrying 4 spare bits: "A" and "B" decode
  // alike in Node, so without the canonical-spelling check this alteration would open.
  const sealed = box.seal('secret', 'row-1');
  const parts = sealed.split('.');
  const tag = parts[3]!;
  const last = tag.at(-1)!;
  const sibling = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')
    .find((c) => c !== last && Buffer.from(tag.slice(0, -1) + c, 'base64url').equals(Buffer.from(tag, 'base64url')))!;
  parts[3] = tag.slice(0, -1) + sibling;
  expect(() => box.open(parts.join('.'), 'row-1')).toThrow(/malformed/);
});

test('truncated, padded or reshaped values are refused', () => {
  const sealed = box.seal('secret', 'row-1');
  const [v, iv, ct, tag] = sealed.split('.') as [string, string, string, string];
  for (const bad of [
    '',
    'secret',
    `${v}.${iv}.${ct}`,
    `${v}.${iv}.${ct}.${tag.slice(0, 16)}`, // a truncated tag must not be accepted as a shorter one
    `${v}.${iv.slice(0, 12)}.${ct}.${tag}`,
    `${v}.${iv}.${ct}.${tag}=`,
    `${v}.${iv}.${ct}.${tag}.extra`,
    `v2.${iv}.${ct}.${tag}`,
  ]) {
    expect(() => box.open(bad, 'row-1')).toThrow(SecretBoxError);
  }
});

test('another key does not open it, with a message that says why', () => {
  const sealed = box.seal('secret', 'row-1');
  const other = new SecretBox(randomBytes(32).toString('base64url'));
  expect(() => other.open(sealed, 'row-1')).toThrow(SecretBoxError);
  expect(() => other.open(sealed, 'row-1')).toThrow(/GATEHOUSE_SECRET_KEY/);
});

test('a ciphertext moved to another row does not open there', () => {
  const sealed = box.seal('secret', 'row-1');
  expect(() => box.open(sealed, 'row-2')).toThrow(SecretBoxError);
  expect(() => box.open(sealed)).toThrow(SecretBoxError);
  expect(() => box.open(box.seal('secret'), 'row-1')).toThrow(SecretBoxError);
});

test('the error is a 500-class app error that never exposes its detail', () => {
  try {
    box.open('v1.x.y.z');
    throw new Error('expected a refusal');
  } catch (err) {
    expect(err).toBeInstanceOf(SecretBoxError);
    expect(err).toMatchObject({ code: 'secret_box.undecryptable', status: 500, expose: false });
  }
});
