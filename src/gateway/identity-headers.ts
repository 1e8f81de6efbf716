import type { IncomingMessage } from 'node:http';
import type { GatewayPrincipal } from './gateway-principal.ts';

// The headers the upstream receives. The inbound headers are walked once (rawHeaders, as sent):
// hop-by-hop headers go (RFC 9110 §7.6.1), every x-gatehouse-* goes (only the gateway speaks
// for the caller), Authorization goes unless configured, and X-Forwarded-* are the gateway's own
// unless the gateway sits behind a trusted proxy. Then the caller's identity is appended.

export interface HeaderOptions {
  /** The upstream's host[:port], sent as Host. */
  upstreamHost: string;
  forwardAuthorization: boolean;
  /** Keep the inbound X-Forwarded-* / Forwarded (a trusted load balancer set them). */
  trustProxy: boolean;
}

/** What the gateway sends for one principal: computed once per principal (principals are immutable and cached). */
export interface Identity {
  /** Flat name/value list of the X-Gatehouse-* headers, the assertion excepted. */
  readonly headers: readonly string[];
  /** The per-credential rate limit key (API keys and service accounts); null for a user's token. */
  readonly limitKey: string | null;
}

const identities = new WeakMap<GatewayPrincipal, Identity>();

export function identityOf(p: GatewayPrincipal): Identity {
  let identity = identities.get(p);
  if (identity === undefined) {
    const headers = ['x-gatehouse-org-id', p.orgId];
    if (p.userId !== null) headers.push('x-gatehouse-user-id', p.userId);
    headers.push(
      'x-gatehouse-role', p.role,
      'x-gatehouse-permissions', [...p.permissions].sort().join(' '),
      'x-gatehouse-credential', `${p.credential.type}:${p.credential.id}`,
    );
    identity = { headers, limitKey: p.credential.type === 'access_token' ? null : `${p.credential.type}:${p.credential.id}` };
    identities.set(p, identity);
  }
  return identity;
}

// Connection options that name no other header (RFC 9110 §7.6.1).
const plainConnectionOptions = new Set(['keep-alive', 'close', 'upgrade']);
// Headers a Connection header may name but never removes: the body's framing and the target.
// Dropping Content-Length while the body is still piped would let the body pass as a second
// request the policy never saw (request smuggling to the upstream).
const neverDropped = new Set(['content-length', 'transfer-encoding', 'host']);

/** Drops the headers a Connection header names (rare: a second pass only then). */
function dropNamed(headers: string[], connection: string): string[] {
  // The common case, checked without splitting: `Connection: keep-alive` (or close) names nothing.
  if (plainConnectionOptions.has(connection) || plainConnectionOptions.has(connection.toLowerCase())) return headers;
  const named = new Set<string>();
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name && !plainConnectionOptions.has(name) && !neverDropped.has(name)) named.add(name);
  }
  if (named.size === 0) return headers;
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!named.has(headers[i]!.toLowerCase())) kept.push(headers[i]!, headers[i + 1]!);
  }
  return kept;
}

/**
 * Headers only the gateway speaks: x-gatehouse-* and proxy-*. CGI-style upstream stacks (WSGI,
 * Rack, PHP) read `X_Gatehouse_Org_Id` and `X-Gatehouse-Org-Id` as the same HTTP_X_GATEHOUSE_ORG_ID,
 * so underscores count as dashes here.
 */
function isReserved(lower: string): boolean {
  if (lower.startsWith('x-gatehouse-') || lower.startsWith('proxy-')) return true;
  if (!lower.includes('_')) return false;
  const dashed = lower.replaceAll('_', '-');
  return dashed.startsWith('x-gatehouse-') || dashed.startsWith('proxy-');
}

/**
 * The request headers for the upstream, as a flat list (http.request takes rawHeaders' shape).
 * `upgrade`: a WebSocket handshake, whose Connection/Upgrade pair is passed on.
 */
export function upstreamRequestHeaders(req: IncomingMessage, opts: HeaderOptions, identity: Identity | null, assertion: string | null, upgrade = false): string[] {
  const raw = req.rawHeaders;
  let out: string[] = [];
  let connection: string | undefined;
  let upgradeTo: string | undefined;
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;
  let chunked = false;
  let authorizationSeen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    const value = raw[i + 1]!;
    switch (lower) {
      case 'host': host = value; continue;
      case 'connection': connection = connection === undefined ? value : `${connection},${value}`; continue;
      case 'upgrade': upgradeTo = value; continue;
      // Expect: 100-continue was answered by the gateway's own server already.
      case 'keep-alive': case 'te': case 'trailer': case 'expect': continue;
      // Node hands us the body de-chunked; it is re-chunked below.
      case 'transfer-encoding': chunked = true; continue;
      // Only the first, the one the gateway verified, when forwarding is configured.
      case 'authorization': if (!opts.forwardAuthorization || authorizationSeen) continue; authorizationSeen = true; break;
      case 'x-forwarded-for': if (opts.trustProxy) forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`; continue;
      case 'x-forwarded-proto': if (opts.trustProxy) forwardedProto = value; continue;
      case 'x-forwarded-host': if (opts.trustProxy) forwardedHost = value; continue;
      case 'forwarded': if (!opts.trustProxy) continue; break;
    }
    if (isReserved(lower)) continue;
    out.push(name, value);
  }
  if (connection !== undefined) out = dropNamed(out, connection);
  const client = req.socket.remoteAddress ?? '';
  out.push(
    'host', opts.upstreamHost,
    'x-forwarded-for', forwardedFor === undefined ? client : `${forwardedFor}, ${client}`,
    'x-forwarded-proto', forwardedProto ?? 'http',
  );
  if (forwardedHost !== undefined || host !== undefined) out.push('x-forwarded-host', (forwardedHost ?? host)!);
  if (upgrade && upgradeTo !== undefined) out.push('connection', 'upgrade', 'upgrade', upgradeTo);
  else if (chunked) out.push('transfer-encoding', 'chunked');
  if (identity !== null) {
    for (let i = 0; i < identity.headers.length; i++) out.push(identity.headers[i]!);
    if (assertion !== null) out.push('x-gatehouse-assertion', assertion);
  }
  return out;
}

/** The upstream's response headers for the client, hop-by-hop headers removed. */
export function downstreamResponseHeaders(raw: readonly string[]): string[] {
  let out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    switch (lower) {
      case 'connection': connection = connection === undefined ? raw[i + 1]! : `${connection},${raw[i + 1]!}`; continue;
      case 'keep-alive': case 'transfer-encoding': case 'te': case 'trailer': case 'upgrade': continue;
    }
    if (lower.startsWith('proxy-')) continue;
    out.push(name, raw[i + 1]!);
  }
  if (connection !== undefined) out = dropNamed(out, connection);
  return out;
}
