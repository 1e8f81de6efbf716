import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';

// The gateway's own answers, RFC 9457 problem+json with a dotted code like the management API's.
// Each body is built once at start-up: a denial on the hot path is one writeHead and one end.

export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly body: Buffer;
  /** Flat header list, as writeHead takes it. */
  readonly headers: readonly string[];
}

function problem(status: number, code: string, detail: string, extra: string[] = []): Problem {
  const body = Buffer.from(JSON.stringify({ type: `urn:gatehouse:problem:${code}`, title: code, status, detail, code }));
  return {
    status,
    code,
    body,
    headers: ['content-type', 'application/problem+json', 'content-length', String(body.length), 'cache-control', 'no-store', ...extra],
  };
}

// RFC 6750 §3: a challenge always; error="invalid_token" only when a credential was presented.
const challenge = 'Bearer realm="gatehouse"';
const invalidTokenChallenge = 'Bearer realm="gatehouse", error="invalid_token"';

export const problems = {
  badRequest: problem(400, 'gateway.bad_request', 'The request path is not accepted.'),
  // The same answer for "no route" and "not your org or workspace": a caller learns nothing of
  // which orgs or workspaces exist.
  notFound: problem(404, 'gateway.not_found', 'No route for this request.'),
  unauthenticated: problem(401, 'gateway.unauthenticated', 'A valid credential is required.', ['www-authenticate', challenge]),
  invalidToken: problem(401, 'gateway.unauthenticated', 'A valid credential is required.', ['www-authenticate', invalidTokenChallenge]),
  forbidden: problem(403, 'gateway.forbidden', 'You do not have permission to do this.'),
  rateLimited: problem(429, 'gateway.rate_limited', 'Too many requests; retry later.'),
  upstreamUnavailable: problem(502, 'gateway.upstream_unavailable', 'The upstream service could not be reached.'),
  upstreamTimeout: problem(504, 'gateway.upstream_timeout', 'The upstream service did not answer in time.'),
  internal: problem(500, 'internal', 'Something went wrong on our side.'),
} as const;

/** Sends `p` unless the response has started (or the client is gone). */
export function sendProblem(res: ServerResponse, p: Problem, retryAfter = 0): void {
  if (res.headersSent || res.destroyed) return;
  if (retryAfter > 0) res.writeHead(p.status, [...p.headers, 'retry-after', String(retryAfter)]);
  else res.writeHead(p.status, p.headers as string[]);
  res.end(p.body);
}

/** The same answer on a raw socket (a refused WebSocket upgrade), then the socket is closed. */
export function writeProblem(socket: Socket, p: Problem, retryAfter = 0): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status]}\r\nconnection: close\r\n`;
  for (let i = 0; i < p.headers.length; i += 2) head += `${p.headers[i]}: ${p.headers[i + 1]}\r\n`;
  if (retryAfter > 0) head += `retry-after: ${retryAfter}\r\n`;
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), p.body]));
}
