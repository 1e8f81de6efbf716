import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { CredentialResolver, GatewayPrincipal, RouteDecision } from './gateway-principal.ts';
import { identityOf, upstreamRequestHeaders, type HeaderOptions, type Identity } from './identity-headers.ts';
import { problems, sendProblem, writeProblem, type Problem } from './problem-responses.ts';
import { safeRequestPath } from './request-path.ts';
import type { Upstream } from './upstream.ts';
import { forwardUpgrade } from './upstream-upgrade.ts';

// The gateway's hot path (DESIGN.md, issue 6). Per request, in this order: path safety (400) →
// route (404) → public routes go through without identity → credential (401) → :orgId/:orgSlug
// and :workspaceId are the principal's (404, the no-route answer) → permission (403) → rate
// limits per org and per API key or service account (429) → proxy with the identity headers.
// When the credential and its assertion are cached the whole path is synchronous: no promise,
// no closure beyond the upstream exchange's listeners.
//
// Failed authentications are limited per client address (GATEWAY_FAILED_AUTH_RATE_LIMIT): each
// 401 takes a token from the address's bucket; the failure that finds it empty is a 429 and
// blocks the address until a token is back, and while it is blocked every protected request
// from it is a 429 before its credential is looked at, so guessing costs no database work.

type DenialReason = 'unauthenticated' | 'forbidden' | 'not_found' | 'rate_limited' | 'bad_request';

export interface ProxyDeps {
  routes: { match(method: string, path: string): RouteDecision | null };
  credentials: CredentialResolver;
  assertions: { assertionFor(principal: GatewayPrincipal): string | Promise<string> };
  orgLimits: { take(key: string): number };
  /** Per API key or service account; `orgId` is the credential's org (its plan may set the rate). */
  keyLimits: { take(key: string, orgId: string): number };
  /** Failed authentications per client address (a TokenBuckets): each 401 takes a token. */
  failedAuthLimits: { take(key: string): number };
  denials: {
    record(orgId: string | null, reason: DenialReason, sample: { method: string; path: string; credential?: { type: string; id: string }; ip: string | null }): void;
  };
  upstream: Upstream;
  headers: HeaderOptions;
  logger: Logger;
}

/** A response (plain request) or a raw socket and its first bytes (an Upgrade handshake). */
type Out = ServerResponse | Socket;

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

// The longest path a denial sample keeps.
const samplePathLength = 200;
// Addresses blocked at once, at most (each for a second or so); the oldest goes first.
const maxBlocked = 100_000;

/**
 * The address failed authentications are counted by. Behind a trusted proxy (trustProxy) it is
 * the last X-Forwarded-For entry, the one that proxy appended: the entries before it are whatever
 * the client sent, so keying on them would let one client spread its failures over invented
 * addresses. (Node joins repeated X-Forwarded-For headers with ', '.)
 */
function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const socketAddress = req.socket.remoteAddress ?? '';
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  if (typeof forwarded !== 'string') return socketAddress;
  const last = forwarded.slice(forwarded.lastIndexOf(',') + 1).trim();
  return last === '' ? socketAddress : last;
}

export class GatewayProxy {
  readonly #deps: ProxyDeps;
  /** Client addresses whose failed-authentication bucket was found empty, and until when (ms). */
  readonly #blocked = new Map<string, number>();

  constructor(deps: ProxyDeps) {
    this.#deps = deps;
  }

  /** The 'request' listener. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      this.#admit(req, res, null);
    } catch (err) {
      this.#fail(res, null, err);
    }
  };

  /** The 'upgrade' listener: the same checks, then the handshake goes upstream. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    // A client that goes away mid-handshake must not raise an unhandled 'error'.
    socket.on('error', () => socket.destroy());
    try {
      // Only WebSocket is tunnelled: an h2c (or other) upgrade the upstream accepted would turn
      // the connection into a pipe whose later requests no check ever sees.
      if (req.headers.upgrade?.toLowerCase() !== 'websocket') return this.#deny(req, socket, head, problems.badRequest, 'bad_request', null, null);
      this.#admit(req, socket, head);
    } catch (err) {
      this.#fail(socket, head, err);
    }
  };

  #admit(req: IncomingMessage, out: Out, head: Buffer | null): void {
    const path = safeRequestPath(req.url);
    if (path === null) return this.#deny(req, out, head, problems.badRequest, 'bad_request', null, null);
    const decision = this.#deps.routes.match(req.method!, path);
    if (decision === null) return this.#deny(req, out, head, problems.notFound, 'not_found', null, null);
    if (decision.kind === 'public') return this.#pass(req, out, head, null, null);
    if (this.#blocked.size !== 0) {
      const wait = this.#blockedFor(clientAddress(req, this.#deps.headers.trustProxy));
      if (wait > 0) return this.#deny(req, out, head, problems.rateLimited, 'rate_limited', null, wait);
    }
    const principal = this.#deps.credentials.resolve(req.headers.authorization);
    if (!isThenable(principal)) return this.#authorize(req, out, head, decision, principal);
    principal.then(
      (resolved) => {
        try {
          this.#authorize(req, out, head, decision, resolved);
        } catch (err) {
          this.#fail(out, head, err);
        }
      },
      (err: unknown) => this.#fail(out, head, err),
    );
  }

  #authorize(req: IncomingMessage, out: Out, head: Buffer | null, decision: RouteDecision & { kind: 'protected' }, p: GatewayPrincipal | null): void {
    if (p === null) {
      const wait = this.#failed(clientAddress(req, this.#deps.headers.trustProxy));
      if (wait > 0) return this.#deny(req, out, head, problems.rateLimited, 'rate_limited', null, wait);
      const p401 = req.headers.authorization === undefined ? problems.unauthenticated : problems.invalidToken;
      return this.#deny(req, out, head, p401, 'unauthenticated', null, null);
    }
    // The org and workspace in the path are checked against the credential's, never the reverse.
    if ((decision.orgId !== undefined && decision.orgId !== p.orgId)
      || (decision.orgSlug !== undefined && decision.orgSlug !== p.orgSlug)
      || (decision.workspaceId !== undefined && !p.workspaceIds.has(decision.workspaceId))) {
      return this.#deny(req, out, head, problems.notFound, 'not_found', p, null);
    }
    if (!p.permissions.has(decision.permission)) return this.#deny(req, out, head, problems.forbidden, 'forbidden', p, null);
    const identity = identityOf(p);
    let wait = this.#deps.orgLimits.take(p.orgId);
    if (wait === 0 && identity.limitKey !== null) wait = this.#deps.keyLimits.take(identity.limitKey, p.orgId);
    if (wait > 0) return this.#deny(req, out, head, problems.rateLimited, 'rate_limited', p, wait);
    const assertion = this.#deps.assertions.assertionFor(p);
    if (!isThenable(assertion)) return this.#pass(req, out, head, identity, assertion);
    assertion.then(
      (signed) => {
        try {
          this.#pass(req, out, head, identity, signed);
        } catch (err) {
          this.#fail(out, head, err);
        }
      },
      (err: unknown) => this.#fail(out, head, err),
    );
  }

  /** Seconds until `address` may be authenticated again (Retry-After); 0 when it is not blocked. */
  #blockedFor(address: string): number {
    const until = this.#blocked.get(address);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.#blocked.delete(address);
    return 0;
  }

  /** A failed authentication from `address`: takes a token; when there was none, blocks the address and returns Retry-After. */
  #failed(address: string): number {
    const wait = this.#deps.failedAuthLimits.take(address);
    if (wait > 0) {
      this.#blocked.delete(address);
      if (this.#blocked.size >= maxBlocked) this.#blocked.delete(this.#blocked.keys().next().value!);
      this.#blocked.set(address, Date.now() + wait * 1000);
    }
    return wait;
  }

  #pass(req: IncomingMessage, out: Out, head: Buffer | null, identity: Identity | null, assertion: string | null): void {
    // The client left while a credential was being looked up: nothing to forward.
    if (out.destroyed) return;
    const headers = upstreamRequestHeaders(req, this.#deps.headers, identity, assertion, head !== null);
    if (head === null) this.#deps.upstream.forward(req, out as ServerResponse, headers);
    else forwardUpgrade(this.#deps.upstream, req, out as Socket, head, headers);
  }

  #deny(req: IncomingMessage, out: Out, head: Buffer | null, problem: Problem, reason: DenialReason, p: GatewayPrincipal | null, retryAfter: number | null): void {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    this.#deps.denials.record(p?.orgId ?? null, reason, {
      method: req.method ?? '',
      path: path.length > samplePathLength ? path.slice(0, samplePathLength) : path,
      credential: p === null ? undefined : p.credential,
      ip: req.socket.remoteAddress ?? null,
    });
    if (head === null) sendProblem(out as ServerResponse, problem, retryAfter ?? 0);
    else writeProblem(out as Socket, problem, retryAfter ?? 0);
  }

  /** Something of ours failed (the database behind a credential look-up): a 500, logged once. */
  #fail(out: Out, head: Buffer | null, err: unknown): void {
    this.#deps.logger.error({ err }, 'gateway: request failed');
    if (head === null) sendProblem(out as ServerResponse, problems.internal);
    else writeProblem(out as Socket, problems.internal);
  }
}
