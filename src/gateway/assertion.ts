import type { GatewayKeys } from './gateway-keys.ts';
import type { GatewayPrincipal } from './gateway-principal.ts';

export const assertionType = 'gatehouse-assertion+jwt';

export interface AssertionOptions {
  /** The issuer URL (iss), as in Gatehouse's access tokens. */
  issuer: string;
  /** The gateway resource (aud): an assertion is meant for the upstream behind this gateway only. */
  audience: string;
  ttlSeconds?: number;
  now?: () => number;
}

interface Signed {
  token: string;
  /** When it is re-signed: half its life gone. */
  refreshAt: number;
  expiresAt: number;
  /** GatewayKeys.generation it was signed under: a reload may have removed its key. */
  generation: number;
  pending: Promise<string> | undefined;
}

/**
 * X-Gatehouse-Assertion: a short-lived JWT stating the principal's facts, signed with Gatehouse's
 * current ES256 key, for upstreams that verify rather than trust headers. Principals are cached
 * objects (one per credential and cache fill), so an assertion is kept per principal and signed
 * again only when half its life is gone: a warm request gets the same string synchronously.
 */
export class AssertionSigner {
  readonly #keys: GatewayKeys;
  readonly #issuer: string;
  readonly #audience: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #signed = new WeakMap<GatewayPrincipal, Signed>();

  constructor(keys: GatewayKeys, opts: AssertionOptions) {
    this.#keys = keys;
    this.#issuer = opts.issuer;
    this.#audience = opts.audience;
    this.#ttlMs = (opts.ttlSeconds ?? 60) * 1000;
    this.#now = opts.now ?? Date.now;
  }

  assertionFor(principal: GatewayPrincipal): string | Promise<string> {
    const signed = this.#signed.get(principal);
    const now = this.#now();
    if (signed && signed.generation === this.#keys.generation && now < signed.expiresAt - 1000) {
      // Past half its life: a new one is signed meanwhile, and this one still serves.
      if (now >= signed.refreshAt && !signed.pending) this.#resign(principal, now, signed);
      return signed.token;
    }
    if (signed) return signed.pending ?? this.#resign(principal, now, signed);
    // Nothing signed yet: a placeholder, so that concurrent first requests share one signing.
    const placeholder: Signed = { token: '', refreshAt: 0, expiresAt: 0, generation: -1, pending: undefined };
    this.#signed.set(principal, placeholder);
    return this.#resign(principal, now, placeholder);
  }

  /** One signing at a time per principal; a failed one is forgotten so the next request tries again. */
  #resign(principal: GatewayPrincipal, now: number, signed: Signed): Promise<string> {
    const pending = this.#sign(principal, now);
    signed.pending = pending;
    pending.catch(() => { if (signed.pending === pending) signed.pending = undefined; });
    return pending;
  }

  async #sign(principal: GatewayPrincipal, now: number): Promise<string> {
    const generation = this.#keys.generation;
    const expiresAt = Math.min(now + this.#ttlMs, principal.expiresAt);
    const token = await this.#keys.sign(claimsOf(principal, this.#issuer, this.#audience, now), { typ: assertionType, expiresAt });
    this.#signed.set(principal, { token, refreshAt: now + (expiresAt - now) / 2, expiresAt, generation, pending: undefined });
    return token;
  }
}

function claimsOf(p: GatewayPrincipal, issuer: string, audience: string, now: number) {
  return {
    iss: issuer,
    aud: audience,
    sub: p.userId ?? p.credential.id,
    iat: Math.floor(now / 1000),
    org_id: p.orgId,
    role: p.role,
    permissions: [...p.permissions].sort(),
    credential: { type: p.credential.type, id: p.credential.id },
    workspace_id: p.workspaceId,
  };
}
