import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../db/database.ts';
import type { Notifications } from '../db/notifications.ts';
import { SigningKeys } from '../oidc/signing-keys.ts';

/** Where every change that could make a gateway cache wrong is announced (migration 0013). */
export const gatewayChannel = 'gatehouse_gateway';

export interface GatewayKeysDeps {
  db: Pick<Database, 'withoutOrg'>;
  secrets: SecretBox;
  notifications: Notifications;
  logger: Logger;
  /** The issuer URL (issuerUrl(config)): the `iss` every access token must carry. */
  issuer: string;
}

// A key schedule may name a change years away; setTimeout takes at most 2^31-1 ms.
const maxTimerMs = 2_147_483_647;
const retryMs = 1_000;

interface KeySet {
  version: string;
  verifyKey: JWTVerifyGetKey;
  signKey: CryptoKey;
  kid: string;
}

/**
 * Gatehouse's signing keys as the gateway needs them: the published public keys to verify access
 * tokens locally, and the current ES256 key to sign assertions. Reloaded when a rotation is
 * announced (`keys` on gatehouse_gateway, sent by a trigger on signing_keys), when notifications
 * may have been missed, and when the schedule's next activation or retirement passes; a token
 * signed by a key that is no longer published then stops verifying.
 */
export class GatewayKeys {
  readonly #keys: SigningKeys;
  readonly #log: Logger;
  readonly #issuer: string;
  readonly #reloaded = new Set<() => void>();
  #set!: KeySet;
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;
  #loading: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #unsubscribe: Array<() => void> = [];

  private constructor(deps: GatewayKeysDeps) {
    this.#keys = new SigningKeys(deps.db, deps.secrets);
    this.#log = deps.logger;
    this.#issuer = deps.issuer;
  }

  static async start(deps: GatewayKeysDeps): Promise<GatewayKeys> {
    const keys = new GatewayKeys(deps);
    await keys.#load();
    keys.#unsubscribe.push(
      deps.notifications.subscribe(gatewayChannel, (payload) => { if (payload === 'keys') keys.reload(); }),
      deps.notifications.onReset(() => keys.reload()),
    );
    return keys;
  }

  /** Bumped by every reload that changed the keys: what was signed or verified before may be stale. */
  get generation(): number {
    return this.#generation;
  }

  /** Calls `listener` after each reload that changed the keys (caches of verified tokens forget them). */
  onReload(listener: () => void): () => void {
    this.#reloaded.add(listener);
    return () => { this.#reloaded.delete(listener); };
  }

  /**
   * The claims of a JWT access token signed by one of the published keys for `audience`, or
   * throws: wrong signature, algorithm (ES256/RS256 only; never `none` or HMAC), issuer,
   * audience, type (RFC 9068 at+jwt: an ID token is not an access token) or expired.
   */
  async verifyAccessToken(token: string, audience: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.#set.verifyKey, {
      issuer: this.#issuer,
      audience,
      algorithms: ['ES256', 'RS256'],
      typ: 'at+jwt',
      requiredClaims: ['exp'],
    });
    return payload;
  }

  /** A JWT of `claims` signed with the current ES256 key (kid in the header), expiring at `expiresAt` (ms). */
  sign(claims: JWTPayload, opts: { typ: string; expiresAt: number }): Promise<string> {
    const { signKey, kid } = this.#set;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: opts.typ, kid })
      .setExpirationTime(Math.floor(opts.expiresAt / 1000))
      .sign(signKey);
  }

  /** Reads the keys again (coalesced: one load at a time, one more if asked meanwhile). */
  reload(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = this.#load()
      .catch((err: unknown) => {
        // Keep trying: until the new keys are in, a removed key would still verify.
        this.#log.error({ err }, 'gateway: signing keys reload failed; retrying');
        this.#schedule(retryMs);
      })
      .finally(() => {
        this.#loading = undefined;
        if (this.#again) {
          this.#again = false;
          void this.reload();
        }
      });
    return this.#loading;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  async #load(): Promise<void> {
    const version = await this.#keys.version();
    if (this.#set?.version === version) return this.#scheduleNext(version);
    const { keys } = await this.#keys.jwks();
    const current = keys.find((k) => k.alg === 'ES256');
    if (!current?.kid) throw new Error('no current ES256 signing key');
    const signKey = (await importJWK(current, 'ES256')) as CryptoKey;
    const verifyKey = createLocalJWKSet({ keys: keys.map(publicMembers) });
    this.#set = { version, verifyKey, signKey, kid: current.kid };
    this.#generation++;
    this.#log.info({ keys: version }, 'gateway: signing keys loaded');
    this.#scheduleNext(version);
    for (const listener of this.#reloaded) listener();
  }

  /** version() is `<digest>@<ISO time | never>`: the time the published keys change by themselves. */
  #scheduleNext(version: string): void {
    const at = Date.parse(version.slice(version.indexOf('@') + 1));
    if (Number.isNaN(at)) return clearTimeout(this.#timer);
    this.#schedule(Math.max(0, at - Date.now()) + 50);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), Math.min(ms, maxTimerMs));
    this.#timer.unref();
  }
}

/** Only the public members: a private key never sits in the verification key set. */
function publicMembers(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e, kid, alg, use } = jwk;
  return kty === 'RSA' ? { kty, n, e, kid, alg, use } : { kty, crv, x, y, kid, alg, use };
}
