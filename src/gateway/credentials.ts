import { hash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { Notifications } from '../db/notifications.ts';
import { apiKeyHashes, apiKeySecretWhich, apiKeyUsable, previousSecretInGrace, type ApiKeyHashes } from '../modules/api-keys/api-key-credential.ts';
import { sameDigest, type ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import type { ApiKeyCredentialRow, PlatformRepository } from '../modules/platform/platform.repository.ts';
import type { ProductPermissions } from '../modules/roles/product-permissions.ts';
import type { ApiKeyUsage } from './api-key-usage.ts';
import { apiKeyPrincipal, memberPrincipal, serviceAccountPrincipal } from './credential-principals.ts';
import { gatewayChannel, type GatewayKeys } from './gateway-keys.ts';
import type { CredentialResolver, GatewayPrincipal } from './gateway-principal.ts';

export interface GatewayCredentialsDeps {
  platform: PlatformRepository;
  apiKeyTokens: ApiKeyTokens;
  keys: GatewayKeys;
  /** The gateway resource: the audience an access token must be for. */
  audience: string;
  productPermissions: ProductPermissions;
  notifications: Notifications;
  usage: ApiKeyUsage;
}

export interface GatewayCredentialsOptions {
  /** Entries kept per cache (verified tokens; API keys); the oldest goes first. */
  maxEntries?: number;
  /** A safety net only: changes are forgotten when announced, not when this runs out. */
  ttlMs?: number;
  /** Refusals kept per cache (unknown key ids; verified tokens of non-members); the oldest goes first. */
  maxRefusals?: number;
  /** How long a refusal is kept (a short net again: the changes that undo one are announced). */
  refusalTtlMs?: number;
  now?: () => number;
}

/**
 * A verified access token's answer, with what invalidations match it by: its principal, or null
 * when it is refused (its user is no longer an active member of its org, its service account is
 * gone or of another org).
 */
interface TokenEntry {
  principal: GatewayPrincipal | null;
  until: number;
  orgId: string;
  userId: string | null;
  clientId: string | null;
}

/** An API key's row as read and the principal built from it; each request proves its secret against the hashes. */
interface KeyEntry {
  principal: GatewayPrincipal | null;
  row: ApiKeyCredentialRow;
  /** The row's hashes, decoded once (no hex per request); the secret itself is never kept. */
  hashes: ApiKeyHashes;
  /** SHA-256 of the secrets that proved themselves against the keyed hashes since the row was read. */
  proven: { current: Buffer | null; previous: Buffer | null };
  until: number;
}

// Authorization: exactly `Bearer <credential>` (RFC 6750 §2.1; the scheme is case-insensitive).
const bearerJwt = /^bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/i;
const bearerApiKey = /^bearer gh_/i;
const prefixLength = 'Bearer '.length;
// A header this long is no token of ours; it is refused before it is verified or kept.
const maxHeaderLength = 8192;

/**
 * The gateway's credentials (issue 6): Gatehouse's JWT access tokens for the gateway resource
 * (users' and service accounts'), and org API keys. A warm request costs one Map lookup (and, for
 * an API key, one HMAC): verified tokens are kept by their header until they expire (at most
 * ttlMs), API keys by their id with their hashes, each with the principal built once.
 *
 * What a cache holds can turn wrong only through changes that the database announces on
 * `gatehouse_gateway` (migration 0013's triggers); each node forgets the entries a payload names
 * when it hears it. While the node is not listening nothing is kept and every request reads the
 * database (a node that lost its connection stops trusting its caches until it has caught up),
 * and a lookup that ran across a change is not kept (the epoch), as in ServiceAccountClients.
 *
 * Refusals that cost a database read are kept too, briefly (refusalTtlMs) and in bounded maps of
 * their own, so that a stream of them costs one read and cannot push good entries out: an API key
 * id with no row (ids are random and never reused: a new key's id was never looked up), and a
 * verified token whose subject is not, or no longer, an active member or live service account,
 * kept with its org and user (or client) so that the same announcements drop it (a re-added
 * member works at once). A credential that fails on its own (shape, signature, secret) costs no
 * read and is never kept: it is the caller's choice and would only fill memory.
 */
export class GatewayCredentials implements CredentialResolver {
  readonly #deps: GatewayCredentialsDeps;
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #maxRefusals: number;
  readonly #refusalTtlMs: number;
  readonly #now: () => number;
  readonly #tokens = new Map<string, TokenEntry>();
  readonly #refusedTokens = new Map<string, TokenEntry>();
  readonly #apiKeys = new Map<string, KeyEntry>();
  /** Key ids with no row, and until when that is trusted. */
  readonly #unknownKeys = new Map<string, number>();
  readonly #pendingTokens = new Map<string, Promise<TokenEntry | null>>();
  readonly #pendingKeys = new Map<string, Promise<KeyEntry | null>>();
  readonly #unsubscribe: Array<() => void>;
  #epoch = 0;
  #declared: ReadonlySet<string>;
  /** Unsubscribed: changes are no longer heard, so nothing may be kept. */
  #stopped = false;

  constructor(deps: GatewayCredentialsDeps, opts: GatewayCredentialsOptions = {}) {
    this.#deps = deps;
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#ttlMs = opts.ttlMs ?? 60_000;
    this.#maxRefusals = opts.maxRefusals ?? 10_000;
    this.#refusalTtlMs = opts.refusalTtlMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
    this.#declared = deps.productPermissions.declared;
    this.#unsubscribe = [
      deps.notifications.subscribe(gatewayChannel, (payload) => this.#changed(payload)),
      deps.notifications.onReset(() => this.clear()),
      // Verified with keys that may be gone: verify again.
      deps.keys.onReload(() => this.#forgetTokens(() => true)),
    ];
  }

  resolve(authorization: string | undefined): GatewayPrincipal | null | Promise<GatewayPrincipal | null> {
    if (!authorization || authorization.length > maxHeaderLength) return null;
    // A reloaded route policy is a new object with its own `declared`: principals built under the
    // old one may hold product permissions it no longer gives.
    if (this.#deps.productPermissions.declared !== this.#declared) this.#policyChanged();
    const caching = !this.#stopped && this.#deps.notifications.listening(gatewayChannel);
    const now = this.#now();
    const token = caching ? this.#tokens.get(authorization) : undefined;
    if (token && token.until > now) return token.principal;
    if (bearerJwt.test(authorization)) return this.#accessToken(authorization, caching, now);
    if (bearerApiKey.test(authorization)) return this.#apiKey(authorization, caching, now);
    return null;
  }

  /** Forgets everything (notifications may have been missed). */
  clear(): void {
    this.#epoch++;
    this.#tokens.clear();
    this.#refusedTokens.clear();
    this.#apiKeys.clear();
    this.#unknownKeys.clear();
    this.#pendingTokens.clear();
    this.#pendingKeys.clear();
  }

  /** Stops hearing changes (a node shutting down); resolve still works, uncached. */
  stop(): void {
    this.#stopped = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.clear();
  }

  #policyChanged(): void {
    this.#declared = this.#deps.productPermissions.declared;
    this.clear();
  }

  #accessToken(header: string, caching: boolean, now: number): GatewayPrincipal | null | Promise<GatewayPrincipal | null> {
    if (!caching) return this.#verify(header.slice(prefixLength)).then((e) => e?.principal ?? null);
    const refused = this.#refusedTokens.get(header);
    if (refused && refused.until > now) return null;
    let pending = this.#pendingTokens.get(header);
    if (!pending) {
      const lookup = this.#fillToken(header).finally(() => {
        if (this.#pendingTokens.get(header) === lookup) this.#pendingTokens.delete(header);
      });
      pending = lookup;
      this.#pendingTokens.set(header, pending);
    }
    return pending.then((e) => e?.principal ?? null);
  }

  async #fillToken(header: string): Promise<TokenEntry | null> {
    const epoch = this.#epoch;
    const entry = await this.#verify(header.slice(prefixLength));
    if (entry && this.#keepable(epoch)) {
      if (entry.principal) store(this.#tokens, header, entry, this.#maxEntries);
      else store(this.#refusedTokens, header, entry, this.#maxRefusals);
    }
    return entry;
  }

  /**
   * A verified token's answer as of now (a principal, or a refusal), or null when it is not a
   * valid token of ours; the signature costs ~85 µs, so this runs once per token.
   */
  async #verify(token: string): Promise<TokenEntry | null> {
    let claims: JWTPayload;
    try {
      claims = await this.#deps.keys.verifyAccessToken(token, this.#deps.audience);
    } catch {
      return null;
    }
    const expiresAt = claims.exp! * 1000;
    const until = Math.min(expiresAt, this.#now() + this.#ttlMs);
    const refusedUntil = Math.min(expiresAt, this.#now() + this.#refusalTtlMs);
    const { sub, org_id: orgId } = claims;
    // RFC 9068 §2.2: a client_credentials token's subject is the client itself.
    if (typeof claims.client_id === 'string' && sub === claims.client_id) {
      const clientId = claims.client_id;
      const account = await this.#deps.platform.findServiceAccountCredential(clientId);
      if (!account || orgId !== account.org_id) {
        return { principal: null, until: refusedUntil, orgId: typeof orgId === 'string' ? orgId : '', userId: null, clientId };
      }
      return { principal: serviceAccountPrincipal(account, expiresAt, this.#deps.productPermissions), until, orgId: account.org_id, userId: null, clientId };
    }
    if (typeof sub !== 'string' || !uuidShape.test(sub) || typeof orgId !== 'string' || !uuidShape.test(orgId)) return null;
    const member = await this.#deps.platform.findMemberCredential(orgId, sub);
    if (!member) return { principal: null, until: refusedUntil, orgId, userId: sub, clientId: null };
    const jti = typeof claims.jti === 'string' ? claims.jti : '';
    return { principal: memberPrincipal(orgId, sub, jti, member, expiresAt, this.#deps.productPermissions), until, orgId, userId: sub, clientId: null };
  }

  #apiKey(header: string, caching: boolean, now: number): GatewayPrincipal | null | Promise<GatewayPrincipal | null> {
    const parsed = this.#deps.apiKeyTokens.parse(header.slice(prefixLength));
    if (!parsed) return null;
    if (caching) {
      const entry = this.#apiKeys.get(parsed.id);
      if (entry && entry.until > now) return this.#open(entry, parsed.secret, now);
      const unknownUntil = this.#unknownKeys.get(parsed.id);
      if (unknownUntil !== undefined && unknownUntil > now) return null;
    }
    const load = caching ? this.#pendingKey(parsed.id) : this.#loadKey(parsed.id);
    return load.then((e) => (e ? this.#open(e, parsed.secret, this.#now()) : null));
  }

  /** Every request proves its secret with the keyed hash: the current one or, in its grace, the previous one. */
  /**
   * Every request proves its secret. The keyed hash (an HMAC object per call) costs ~10 µs in the
   * gateway under load, more than the rest of a warm request, so once a secret has matched it, its
   * plain SHA-256 is kept and later requests compare against that (one-shot hash, ~1 µs, constant
   * time). Never the secret: a 192-bit random secret cannot be recovered from its SHA-256, so a
   * memory dump yields nothing that opens the key. Grace and expiry are checked every time.
   */
  #open(entry: KeyEntry, secret: string, now: number): GatewayPrincipal | null {
    if (!entry.principal || !apiKeyUsable(entry.row, now)) return null;
    const { proven } = entry;
    const fingerprint = hash('sha256', secret, 'buffer');
    const known = (proven.current !== null && sameDigest(fingerprint, proven.current))
      || (proven.previous !== null && previousSecretInGrace(entry.row, now) && sameDigest(fingerprint, proven.previous));
    if (!known) {
      const which = apiKeySecretWhich(this.#deps.apiKeyTokens, secret, entry.row, now, entry.hashes);
      if (which === null) return null;
      proven[which] = fingerprint;
    }
    this.#deps.usage.count(entry.row.id);
    return entry.principal;
  }

  #pendingKey(keyId: string): Promise<KeyEntry | null> {
    let pending = this.#pendingKeys.get(keyId);
    if (!pending) {
      const lookup = this.#fillKey(keyId).finally(() => {
        if (this.#pendingKeys.get(keyId) === lookup) this.#pendingKeys.delete(keyId);
      });
      pending = lookup;
      this.#pendingKeys.set(keyId, pending);
    }
    return pending;
  }

  async #fillKey(keyId: string): Promise<KeyEntry | null> {
    const epoch = this.#epoch;
    const entry = await this.#loadKey(keyId);
    if (this.#keepable(epoch)) {
      if (entry) store(this.#apiKeys, keyId, entry, this.#maxEntries);
      else store(this.#unknownKeys, keyId, this.#now() + this.#refusalTtlMs, this.#maxRefusals);
    }
    return entry;
  }

  async #loadKey(keyId: string): Promise<KeyEntry | null> {
    const row = await this.#deps.platform.findApiKeyCredential(keyId);
    if (!row) return null;
    return { row, principal: apiKeyPrincipal(row, this.#deps.productPermissions), hashes: apiKeyHashes(row), proven: { current: null, previous: null }, until: this.#now() + this.#ttlMs };
  }

  /** Kept only if no change was heard while it was read (it might predate it), and only while changes can be heard. */
  #keepable(epoch: number): boolean {
    return epoch === this.#epoch && !this.#stopped && this.#deps.notifications.listening(gatewayChannel);
  }

  #changed(payload: string): void {
    const [kind, a, b] = payload.split(':');
    if (kind === 'member' && a && b) return this.#forget((p) => p.orgId === a && p.userId === b);
    if (kind === 'key' && a && !b) return this.#forgetKey(a);
    if (kind === 'sa' && a && !b) return this.#forgetTokens((e) => e.clientId === a);
    if (kind === 'org' && a && !b) return this.#forget((p) => p.orgId === a);
    if (kind === 'user' && a && !b) return this.#forget((p) => p.userId === a);
    if (kind === 'keys' && a === undefined) return this.#forgetTokens(() => true);
    this.clear(); // a payload this node does not know: forget everything
  }

  /** Forgets the tokens (kept or refused) and API keys of the org and user that match (an API key's are its creator's). */
  #forget(match: (p: { orgId: string; userId: string | null }) => boolean): void {
    this.#forgetTokens(match);
    this.#epoch++;
    for (const [id, entry] of this.#apiKeys) {
      if (match({ orgId: entry.row.org_id, userId: entry.row.created_by })) this.#apiKeys.delete(id);
    }
    this.#pendingKeys.clear();
  }

  #forgetTokens(match: (e: TokenEntry) => boolean): void {
    this.#epoch++;
    for (const [header, entry] of this.#tokens) if (match(entry)) this.#tokens.delete(header);
    for (const [header, entry] of this.#refusedTokens) if (match(entry)) this.#refusedTokens.delete(header);
    this.#pendingTokens.clear();
  }

  #forgetKey(keyId: string): void {
    this.#epoch++;
    this.#apiKeys.delete(keyId);
    this.#unknownKeys.delete(keyId);
    this.#pendingKeys.delete(keyId);
  }
}

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Bounded: the oldest entry goes when the map is full. */
function store<V>(map: Map<string, V>, key: string, value: V, maxEntries: number): void {
  map.delete(key);
  if (map.size >= maxEntries) map.delete(map.keys().next().value!);
  map.set(key, value);
}
