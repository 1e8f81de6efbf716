import { hkdfSync, randomBytes } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { Context } from 'koa';
import type { Config } from '../../config/config.schema.ts';

/** One signed-in console user, acting in one org. Sealed in a cookie: nodes stay stateless. */
export interface ConsoleSession {
  userId: string;
  orgId: string;
  role: string;
  permissions: string[];
  accessToken: string;
  /** Epoch seconds. */
  accessTokenExpiresAt: number;
  refreshToken: string;
  /** Every posting form carries it (console forms are same-site, the cookie Lax: both, belt and braces). */
  csrf: string;
}

/** A sign-in in progress: the PKCE verifier, state and nonce openid-client checks on the way back. */
export interface SignInFlow {
  verifier: string;
  state: string;
  nonce: string;
  /** The console path to land on (always a local /admin path). */
  returnTo: string;
}

/** A platform operator signed in with a platform API key (platform.routes.ts): the key itself. */
export interface PlatformSession {
  key: string;
  csrf: string;
}

const sessionCookie = 'gh_console';
const flowCookie = 'gh_console_flow';
const sessionHours = 12;
// The operator's cookie holds a key that reads every org: sent only to the operator pages, and
// kept for a working day, not the org console's twelve hours.
const platformCookie = 'gh_console_platform';
const platformPath = '/admin/platform';
const platformHours = 8;

/**
 * Seals and opens the console's cookies with A256GCM (jose, `dir`), under a key derived from
 * GATEHOUSE_SECRET_KEY: a cookie holds tokens, so it is encrypted, not just signed, and a
 * cookie made for another purpose (the flow) can never be read as a session.
 */
export class ConsoleCookies {
  readonly #key: Uint8Array;
  readonly #secure: boolean;

  constructor(config: Config) {
    this.#key = new Uint8Array(hkdfSync('sha256', config.secretKey, 'gatehouse', 'console cookies', 32));
    this.#secure = config.publicUrl.startsWith('https://');
  }

  async session(ctx: Context): Promise<ConsoleSession | undefined> {
    return (await this.#open(ctx, sessionCookie)) as ConsoleSession | undefined;
  }

  async setSession(ctx: Context, session: ConsoleSession): Promise<void> {
    await this.#seal(ctx, sessionCookie, session, sessionHours * 3600);
  }

  async flow(ctx: Context): Promise<SignInFlow | undefined> {
    return (await this.#open(ctx, flowCookie)) as SignInFlow | undefined;
  }

  async setFlow(ctx: Context, flow: SignInFlow): Promise<void> {
    await this.#seal(ctx, flowCookie, flow, 600);
  }

  async platformSession(ctx: Context): Promise<PlatformSession | undefined> {
    return (await this.#open(ctx, platformCookie)) as PlatformSession | undefined;
  }

  async setPlatformSession(ctx: Context, session: PlatformSession): Promise<void> {
    await this.#seal(ctx, platformCookie, session, platformHours * 3600, platformPath);
  }

  clearPlatformSession(ctx: Context): void {
    ctx.cookies.set(platformCookie, null, { path: platformPath });
  }

  clear(ctx: Context, which: 'session' | 'flow'): void {
    ctx.cookies.set(which === 'session' ? sessionCookie : flowCookie, null, { path: '/admin' });
  }

  async #seal(ctx: Context, name: string, value: object, seconds: number, path = '/admin'): Promise<void> {
    const sealed = await new EncryptJWT({ v: value, use: name })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${seconds}s`)
      .encrypt(this.#key);
    ctx.cookies.set(name, sealed, { path, httpOnly: true, sameSite: 'lax', secure: this.#secure, maxAge: seconds * 1000, overwrite: true });
  }

  async #open(ctx: Context, name: string): Promise<object | undefined> {
    const sealed = ctx.cookies.get(name);
    if (!sealed) return undefined;
    try {
      const { payload } = await jwtDecrypt(sealed, this.#key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      return payload.use === name && typeof payload.v === 'object' ? (payload.v as object) : undefined;
    } catch {
      return undefined; // expired, from another key, or tampered: as if absent
    }
  }
}

export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}
