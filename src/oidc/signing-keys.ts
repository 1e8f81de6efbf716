import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Database } from '../db/database.ts';
import { SecretBox, SecretBoxError } from '../crypto/secret-box.ts';
import { SigningKeysRepository, type SigningAlg, type SigningKeySchedule } from './signing-keys.repository.ts';

export type { SigningAlg } from './signing-keys.repository.ts';

export const signingAlgs: readonly SigningAlg[] = ['ES256', 'RS256'];

/**
 * The longest lifetime of any token signed with these keys (ID tokens, JWT access tokens, logout
 * tokens, gateway assertions). A retired key stays published this long after it last signed, so
 * keep it at least the largest ttl the provider is configured with.
 */
export const maxSignedTokenLifetimeSeconds = 60 * 60;

export interface KeyActivation {
  kid: string;
  alg: SigningAlg;
  activatesAt: Date;
}

export interface Rotation {
  /** The new keys: published now, signing from activatesAt. */
  keys: KeyActivation[];
  /** The keys they replace: still published (to verify what they signed) until retiresAt. */
  retiring: { kid: string; alg: SigningAlg; retiresAt: Date }[];
  /** Keys deleted: past their retirement, or announced by an earlier rotation but never active. */
  removed: string[];
}

/** Where each key stands at one moment. */
export interface KeyTimeline<K extends SigningKeySchedule> {
  /** Published keys: each alg's current signing key first, then upcoming, then retiring ones. */
  ordered: K[];
  current: Partial<Record<SigningAlg, K>>;
  /** The next activation or retirement after now: when `ordered` will change by itself. */
  nextChangeAt: Date | null;
}

/**
 * The keys published at `now`, in the order oidc-provider needs: it signs with the first key
 * that matches the alg, so each alg's current key (the latest activated) leads.
 */
export function keyTimeline<K extends SigningKeySchedule>(keys: readonly K[], now: Date): KeyTimeline<K> {
  const published = keys.filter((k) => k.retiresAt === null || k.retiresAt > now);
  const current: Partial<Record<SigningAlg, K>> = {};
  for (const key of published) {
    if (key.activatesAt > now) continue;
    const best = current[key.alg];
    if (!best || key.activatesAt > best.activatesAt || (+key.activatesAt === +best.activatesAt && key.kid > best.kid)) current[key.alg] = key;
  }
  const leaders = signingAlgs.flatMap((alg) => current[alg] ?? []);
  // ties (keys made by one rotation) in alg order, so the order is stable from call to call
  const tie = (a: K, b: K) => signingAlgs.indexOf(a.alg) - signingAlgs.indexOf(b.alg) || a.kid.localeCompare(b.kid);
  const upcoming = published.filter((k) => k.activatesAt > now).sort((a, b) => +a.activatesAt - +b.activatesAt || tie(a, b));
  const retiring = published.filter((k) => k.activatesAt <= now && !leaders.includes(k)).sort((a, b) => +b.activatesAt - +a.activatesAt || tie(a, b));
  const changes = published.flatMap((k) => [k.activatesAt, k.retiresAt]).filter((t): t is Date => t !== null && t > now);
  const nextChangeAt = changes.length ? new Date(Math.min(...changes.map(Number))) : null;
  return { ordered: [...leaders, ...upcoming, ...retiring], current, nextChangeAt };
}

/**
 * OIDC signing keys, kept in the database (sealed with the secret box) so every node signs with
 * the same keys and a rotation reaches all of them. Every method takes the time it acts at
 * (default: the clock), so a rotation's schedule can be tested without waiting for it.
 */
export class SigningKeys {
  readonly #db: Pick<Database, 'withoutOrg'>;
  readonly #box: SecretBox;
  readonly #clock: () => Date;

  constructor(db: Pick<Database, 'withoutOrg'>, box: SecretBox, clock: () => Date = () => new Date()) {
    this.#db = db;
    this.#box = box;
    this.#clock = clock;
  }

  /** First start: a current ES256 and RS256 key, each made only if its alg has none. */
  ensureKeys(now = this.#clock()): Promise<KeyActivation[]> {
    return this.#db.withoutOrg(async (em) => {
      const repo = new SigningKeysRepository(em);
      await repo.lock();
      await repo.deleteRetired(now);
      const { current } = keyTimeline(await repo.schedule(), now);
      const created: KeyActivation[] = [];
      for (const alg of signingAlgs) {
        if (!current[alg]) created.push(await this.#create(repo, alg, now));
      }
      return created;
    });
  }

  /**
   * New ES256 and RS256 keys, published at once and signing after `propagationSeconds` (relying
   * parties refresh their JWKS caches meanwhile). The keys they replace stop signing then and stay
   * published `maxTokenLifetimeSeconds` longer, so every token they signed still verifies.
   */
  async rotate(opts: { propagationSeconds: number; maxTokenLifetimeSeconds: number }, now = this.#clock()): Promise<Rotation> {
    for (const [name, value] of Object.entries(opts)) {
      if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of seconds, not ${value}`);
    }
    return this.#db.withoutOrg(async (em) => {
      const repo = new SigningKeysRepository(em);
      await repo.lock();
      // A key an earlier rotation announced but that never signed is superseded, not kept: left
      // in place it would take over again at its own (later) activation.
      const removed = [...(await repo.deleteRetired(now)), ...(await repo.deletePending(now))];
      const existing = await repo.schedule();
      const { current } = keyTimeline(existing, now);
      const keys: KeyActivation[] = [];
      for (const alg of signingAlgs) {
        // nothing of this alg signs yet, so there is nothing to hand over from: sign at once.
        const activatesAt = current[alg] ? new Date(+now + opts.propagationSeconds * 1000) : now;
        keys.push(await this.#create(repo, alg, activatesAt));
      }
      const retiring: Rotation['retiring'] = [];
      for (const key of existing) {
        if (key !== current[key.alg] && key.retiresAt !== null) continue;
        const successor = keys.find((k) => k.alg === key.alg)!;
        const retiresAt = new Date(+successor.activatesAt + opts.maxTokenLifetimeSeconds * 1000);
        await repo.setRetiresAt(key.kid, retiresAt);
        retiring.push({ kid: key.kid, alg: key.alg, retiresAt });
      }
      return { keys, retiring, removed };
    });
  }

  /** Private JWKs for oidc-provider's `jwks` option, each alg's current signing key first. */
  async jwks(now = this.#clock()): Promise<{ keys: JWK[] }> {
    const rows = await this.#db.withoutOrg((em) => new SigningKeysRepository(em).withSecrets());
    return {
      keys: keyTimeline(rows, now).ordered.map((row) => {
        try {
          return JSON.parse(this.#box.open(row.sealedJwk, row.kid)) as JWK;
        } catch (err) {
          if (err instanceof SecretBoxError) throw new SecretBoxError(`signing key ${row.kid}: ${err.detail}`, err);
          throw err;
        }
      }),
    };
  }

  /** The same keys with only their public members, as a relying party sees them. */
  async publicJwks(now = this.#clock()): Promise<{ keys: JWK[] }> {
    const { keys } = await this.jwks(now);
    return { keys: keys.map(publicMembers) };
  }

  /**
   * Changes whenever the published keys or a current key change, and names the next moment that
   * will happen by itself: `<digest>@<ISO time | never>`. One small read, nothing decrypted, so
   * it can be polled to know when to rebuild the provider.
   */
  async version(now = this.#clock()): Promise<string> {
    const keys = await this.#db.withoutOrg((em) => new SigningKeysRepository(em).schedule());
    const { ordered, current, nextChangeAt } = keyTimeline(keys, now);
    const state = JSON.stringify([signingAlgs.map((alg) => current[alg]?.kid ?? null), ordered.map((k) => k.kid)]);
    const digest = createHash('sha256').update(state).digest('base64url').slice(0, 16);
    return `${digest}@${nextChangeAt?.toISOString() ?? 'never'}`;
  }

  async #create(repo: SigningKeysRepository, alg: SigningAlg, activatesAt: Date): Promise<KeyActivation> {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(privateKey);
    // RFC 7638 thumbprint: the same kid oidc-provider would compute for the key.
    const kid = await calculateJwkThumbprint(jwk, 'sha256');
    const sealedJwk = this.#box.seal(JSON.stringify({ ...jwk, kid, alg, use: 'sig' }), kid);
    await repo.insert({ kid, alg, sealedJwk, activatesAt, retiresAt: null });
    return { kid, alg, activatesAt };
  }
}

function publicMembers(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e, kid, alg, use } = jwk;
  return kty === 'RSA' ? { kty, n, e, kid, alg, use } : { kty, crv, x, y, kid, alg, use };
}
