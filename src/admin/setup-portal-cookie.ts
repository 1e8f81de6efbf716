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
export const setupPortalPath = '/admin/setup';

/**
 * The setup portal's cookie, sealed with A256GCM (jose, `dir`) like the console's, under a key
 * derived for this purpose alone, so neither cookie can be read as the other. It is sent only to
 * /admin/setup and lives no longer than the link (the API decides on every page anyway).
 */
export class SetupPortalCookie {
  readonly #key: Uint8Array;
  readonly #secure: boolean;

  constructor(config: Config) {
    this.#key = new Uint8Array(hkdfSync('sha256', config.secretKey, 'gatehouse', 'setup portal cookie', 32));
    this.#secure = config.publicUrl.startsWith('https://');
  }

  async open(ctx: Context): Promise<SetupPortalState | undefined> {
    const sealed = ctx.cookies.get(cookieName);
    if (!sealed) return undefined;
    try {
      const { payload } = await jwtDecrypt(sealed, this.#key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      if (payload.use !== cookieName) return undefined;
      const v = payload.v as Partial<SetupPortalState> | undefined;
      return typeof v?.token === 'string' && typeof v.csrf === 'string' ? { token: v.token, csrf: v.csrf } : undefined;
    } catch {
      return undefined; // expired, from another key, or tampered: as if absent
    }
  }

  async seal(ctx: Context, token: string, expiresAt: Date): Promise<void> {
    const seconds = Math.max(1, Math.min(Math.floor((expiresAt.getTime() - Date.now()) / 1000), 720 * 3600));
    const sealed = await new EncryptJWT({ v: { token, csrf: randomBytes(24).toString('base64url') }, use: cookieName })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${seconds}s`)
      .encrypt(this.#key);
    ctx.cookies.set(cookieName, sealed, { path: setupPortalPath, httpOnly: true, sameSite: 'lax', secure: this.#secure, maxAge: seconds * 1000, overwrite: true });
  }

  clear(ctx: Context): void {
    ctx.cookies.set(cookieName, null, { path: setupPortalPath });
  }
}
