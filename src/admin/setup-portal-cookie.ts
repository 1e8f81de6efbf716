import { hkdfSync, randomBytes } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { Context } from 'koa';
import type { Config } from '../../config/config.schema.ts';

/** What the setup portal keeps between pages: the link's token (the browser's only credential) and a CSRF token. */
export interface SetupPortalState {
  token: string;
  csrf: string;
}

const cookieName = 'gh_setup';
// The page before a link opens (setup-portal.routes.ts) puts a nonce here and in its form; only
// a post carrying both opens the link, so another site cannot open one in a victim's browser.
const nonceCookie = 'gh_setup_nonce';
const nonceSeconds = 15 * 60;
export const setupPortalPath = '/admin/setup';

/**
 * The setup portal's cookies, sealed with A256GCM (jose, `dir`) like the console's, under a key
 * derived for this purpose alone, so neither cookie can be read as the other. They are sent only
 * to /admin/setup; the link's lives no longer than the link (the API decides on every page anyway).
 */
export class SetupPortalCookie {
  readonly #key: Uint8Array;
  readonly #secure: boolean;

  constructor(config: Config) {
    this.#key = new Uint8Array(hkdfSync('sha256', config.secretKey, 'gatehouse', 'setup portal cookie', 32));
    this.#secure = config.publicUrl.startsWith('https://');
  }

  async open(ctx: Context): Promise<SetupPortalState | undefined> {
    const v = (await this.#open(ctx, cookieName)) as Partial<SetupPortalState> | undefined;
    return typeof v?.token === 'string' && typeof v.csrf === 'string' ? { token: v.token, csrf: v.csrf } : undefined;
  }

  async seal(ctx: Context, token: string, expiresAt: Date): Promise<void> {
    const seconds = Math.max(1, Math.min(Math.floor((expiresAt.getTime() - Date.now()) / 1000), 720 * 3600));
    await this.#seal(ctx, cookieName, { token, csrf: randomBytes(24).toString('base64url') }, seconds);
  }

  clear(ctx: Context): void {
    ctx.cookies.set(cookieName, null, { path: setupPortalPath });
  }

  /** A fresh nonce for the page before a link opens, kept in its own short-lived cookie. */
  async newNonce(ctx: Context): Promise<string> {
    const nonce = randomBytes(24).toString('base64url');
    await this.#seal(ctx, nonceCookie, { nonce }, nonceSeconds);
    return nonce;
  }

  /** Whether `nonce` is the one this browser was given; either way it is used up. */
  async spendNonce(ctx: Context, nonce: string): Promise<boolean> {
    const v = (await this.#open(ctx, nonceCookie)) as { nonce?: unknown } | undefined;
    if (v) ctx.cookies.set(nonceCookie, null, { path: setupPortalPath });
    return typeof v?.nonce === 'string' && nonce.length > 0 && v.nonce === nonce;
  }

  async #seal(ctx: Context, name: string, v: object, seconds: number): Promise<void> {
    const sealed = await new EncryptJWT({ v, use: name })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${seconds}s`)
      .encrypt(this.#key);
    ctx.cookies.set(name, sealed, { path: setupPortalPath, httpOnly: true, sameSite: 'lax', secure: this.#secure, maxAge: seconds * 1000, overwrite: true });
  }

  async #open(ctx: Context, name: string): Promise<object | undefined> {
    const sealed = ctx.cookies.get(name);
    if (!sealed) return undefined;
    try {
      const { payload } = await jwtDecrypt(sealed, this.#key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      return payload.use === name && typeof payload.v === 'object' && payload.v !== null ? payload.v : undefined;
    } catch {
      return undefined; // expired, from another key, or tampered: as if absent
    }
  }
}
