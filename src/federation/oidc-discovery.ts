import * as oidc from 'openid-client';
import type { Config } from '../../config/config.schema.ts';
import { SsoError } from './sso-edge.ts';

const tenantPlaceholder = '{tenantid}';
const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The issuer ID tokens must carry, given the issuer the discovery document names and the one the
 * connection was configured with. Entra's multi-tenant metadata (`common`, `organizations`) names
 * `https://login.microsoftonline.com/{tenantid}/v2.0`, which no token carries: the placeholder is
 * replaced by the tenant id `tid`, and only when that yields the configured issuer, i.e. the
 * connection names one tenant. (openid-client would accept any tenant there: for one org's
 * connection that lets every Entra tenant in the world sign in as that org's domain.)
 * Null: the issuer cannot be trusted for this connection.
 */
export function expectedIssuer(discovered: string, configured: string, tid: string | null): string | null {
  if (!discovered.includes(tenantPlaceholder)) return sameUrl(discovered, configured) ? discovered : null;
  if (!tid || !guid.test(tid)) return null;
  const tenantIssuer = discovered.replace(tenantPlaceholder, tid);
  return sameUrl(tenantIssuer, configured) ? tenantIssuer : null;
}

/** The tenant id a configured Entra issuer names, given the metadata's `{tenantid}` template (null: none). */
export function tenantOf(discovered: string, configured: string): string | null {
  const at = discovered.indexOf(tenantPlaceholder);
  if (at < 0) return null;
  const prefix = discovered.slice(0, at);
  const suffix = discovered.slice(at + tenantPlaceholder.length);
  if (!configured.startsWith(prefix) || !configured.endsWith(suffix)) return null;
  return configured.slice(prefix.length, configured.length - suffix.length);
}

/** Keeps the library's error for the log (never shown to the person). */
export function withCause<E extends Error>(error: E, cause: unknown): E {
  return Object.assign(error, { cause });
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

export interface OidcClientSettings {
  /** Cache key: a connection id and version (a changed client secret is used at once), or 'google'. */
  key: string;
  issuer: string;
  discoveryUrl: string | null;
  clientId: string;
  clientSecret: () => string;
}

/** A client of one IdP; `tenant`: the Entra tenant its ID tokens' `tid` must name (multi-tenant metadata only). */
export interface OidcClient {
  config: oidc.Configuration;
  tenant: string | null;
}

const ttlMs = 5 * 60_000;

/**
 * openid-client Configurations from discovery (OIDC Discovery 1.0), cached a few minutes per
 * connection and issuer: a login does not fetch the metadata twice, yet a changed IdP is seen soon.
 */
export class OidcDiscovery {
  readonly #config: Config;
  readonly #cache = new Map<string, { at: number; value: Promise<OidcClient> }>();

  constructor(config: Config) {
    this.#config = config;
  }

  /** http issuers only for local development and tests (openid-client refuses them otherwise). */
  get insecureAllowed(): boolean {
    return this.#config.env === 'test' || this.#config.env === 'development';
  }

  configuration(settings: OidcClientSettings): Promise<OidcClient> {
    const key = `${settings.key}|${settings.issuer}|${settings.discoveryUrl ?? ''}|${settings.clientId}`;
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value;
    for (const [k, entry] of this.#cache) if (now - entry.at >= ttlMs) this.#cache.delete(k);
    const value = this.#discover(settings);
    this.#cache.set(key, { at: now, value });
    value.catch(() => this.#cache.delete(key));
    return value;
  }

  async #discover(s: OidcClientSettings): Promise<OidcClient> {
    const execute = this.insecureAllowed ? [oidc.allowInsecureRequests] : [];
    let found: oidc.Configuration;
    try {
      found = await oidc.discovery(new URL(s.discoveryUrl ?? s.issuer), s.clientId, undefined, undefined, { execute, timeout: 10 });
    } catch (err) {
      throw withCause(new SsoError(502, 'sso.discovery_failed', 'Your identity provider could not be reached. Try again later.'), err);
    }
    const metadata = JSON.parse(JSON.stringify(found.serverMetadata())) as oidc.ServerMetadata;
    // Discovery from a discoveryUrl checks no issuer: the connection's issuer is checked here.
    const tenant = tenantOf(metadata.issuer, s.issuer);
    const issuer = expectedIssuer(metadata.issuer, s.issuer, tenant);
    if (!issuer) throw new SsoError(400, 'sso.issuer_mismatch', 'This sign-in connection is not set up correctly (its issuer does not match its identity provider). Contact your administrator.');
    const config = new oidc.Configuration({ ...metadata, issuer }, s.clientId, undefined, clientAuth(metadata, s.clientSecret()));
    if (this.insecureAllowed) oidc.allowInsecureRequests(config);
    return { config, tenant };
  }
}

/** client_secret_basic unless the IdP supports only client_secret_post (RFC 8414: basic is the default). */
function clientAuth(metadata: oidc.ServerMetadata, secret: string): oidc.ClientAuth {
  const methods = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  return methods.includes('client_secret_basic') || !methods.includes('client_secret_post') ? oidc.ClientSecretBasic(secret) : oidc.ClientSecretPost(secret);
}
