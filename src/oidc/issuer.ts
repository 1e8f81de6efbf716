import mount from 'koa-mount';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { createLocalJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { createProvider, issuerUrl, type IssuerDeps } from './provider.ts';
import type { SigningKeys } from './signing-keys.ts';

/**
 * The issuer at /oidc. oidc-provider takes its signing keys when it is built, so the issuer
 * rebuilds it whenever the key set changes (a rotation on any node, or a key's activation time
 * passing); everything else a provider holds is in the database, so nothing is lost.
 */
export class Issuer {
  readonly #deps: IssuerDeps;
  readonly #keys: SigningKeys;
  readonly #log: Logger;
  #version = '';
  #provider!: Provider;
  #jwks!: JWTVerifyGetKey;
  #handler!: Middleware;
  #timer: NodeJS.Timeout | undefined;

  private constructor(deps: IssuerDeps, keys: SigningKeys, log: Logger) {
    this.#deps = deps;
    this.#keys = keys;
    this.#log = log;
  }

  /** Makes the first keys if there are none, and builds the provider. */
  static async start(deps: IssuerDeps, keys: SigningKeys, log: Logger): Promise<Issuer> {
    const issuer = new Issuer(deps, keys, log);
    await keys.ensureKeys();
    await issuer.refresh();
    return issuer;
  }

  get provider(): Provider {
    return this.#provider;
  }

  /** Koa middleware serving the provider under /oidc. */
  middleware(): Middleware {
    return (ctx, next) => this.#handler(ctx, next);
  }

  /** Rebuilds the provider if the keys changed since the last look; true when it did. */
  async refresh(): Promise<boolean> {
    const version = await this.#keys.version();
    if (version === this.#version) return false;
    this.#provider = createProvider(this.#deps, await this.#keys.jwks(), (token, audience) => this.verifyAccessToken(token, audience));
    // oidc-provider answers a generic server_error; the cause goes to the log.
    this.#provider.on('server_error', (_ctx: unknown, err: unknown) => this.#log.error({ err }, 'issuer server error'));
    this.#handler = mount('/oidc', this.#provider);
    this.#jwks = createLocalJWKSet(await this.#keys.publicJwks());
    this.#version = version;
    this.#log.info({ keys: version }, 'issuer keys loaded');
    return true;
  }

  /**
   * The claims of a JWT access token this issuer signed for `audience`, or throws: wrong
   * signature, algorithm (only ES256/RS256; never `none`), issuer, audience, or expired.
   */
  async verifyAccessToken(token: string, audience: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, this.#jwks, {
      issuer: issuerUrl(this.#deps.config),
      audience,
      algorithms: ['ES256', 'RS256'],
      typ: 'at+jwt', // RFC 9068: an ID token or other JWT is not an access token
    });
    return payload;
  }

  /** Looks for key changes every `seconds` until stopped. */
  watch(seconds: number): void {
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.#log.error({ err }, 'issuer key refresh failed'));
    }, seconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
