import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { downstreamResponseHeaders } from './identity-headers.ts';
import { problems, sendProblem } from './problem-responses.ts';

// The upstream end of the proxy: keep-alive connections (LIFO, so the warmest sockets are reused
// and idle ones time out), both bodies streamed with backpressure (pipe), nothing buffered.
// Failures before the upstream answers are 502/504 problems; after the answer started the status
// cannot change, so the client's connection is cut (it then knows the body is incomplete).

export interface UpstreamOptions {
  url: URL;
  /** Connecting and waiting for the response head, after the request body was sent. */
  timeoutMs: number;
  logger: Logger;
  maxSockets?: number;
}

export class Upstream {
  readonly agent: http.Agent;
  /** host[:port], sent as Host. */
  readonly host: string;
  readonly hostname: string;
  readonly port: number;
  readonly basePath: string;
  readonly timeoutMs: number;
  readonly request: typeof http.request;
  readonly #logger: Logger;

  constructor(opts: UpstreamOptions) {
    const secure = opts.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 1024, maxFreeSockets: 256, scheduling: 'lifo' as const };
    this.agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.request = secure ? https.request : http.request;
    this.host = opts.url.host;
    this.hostname = opts.url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(opts.url.port) || (secure ? 443 : 80);
    // UPSTREAM_URL may carry a base path: the request's path is appended to it.
    this.basePath = opts.url.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs;
    this.#logger = opts.logger;
  }

  /** Sends `req` (already checked and authorized) with `headers` and streams the answer into `res`. */
  forward(req: IncomingMessage, res: ServerResponse, headers: string[]): void {
    const upstreamReq = this.request({
      agent: this.agent, hostname: this.hostname, port: this.port, method: req.method,
      path: this.basePath + req.url!, headers, setHost: false,
    });
    const exchange = new Exchange(req, res, upstreamReq, this.#logger);
    exchange.timer = setTimeout(() => exchange.onTimeout(), this.timeoutMs);
    upstreamReq.on('response', (upstreamRes) => exchange.onResponse(upstreamRes));
    upstreamReq.on('error', (err) => exchange.onUpstreamError(err));
    req.on('error', () => exchange.abort());
    res.on('close', () => exchange.onClientClose());
    const length = req.headers['content-length'];
    if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) upstreamReq.end();
    else req.pipe(upstreamReq);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** One request's two ends; every failure of either ends both, and nothing throws. */
class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly upstreamReq: ClientRequest;
  readonly logger: Logger;
  timer: NodeJS.Timeout | undefined;
  timedOut = false;

  constructor(req: IncomingMessage, res: ServerResponse, upstreamReq: ClientRequest, logger: Logger) {
    this.req = req;
    this.res = res;
    this.upstreamReq = upstreamReq;
    this.logger = logger;
  }

  onResponse(upstreamRes: IncomingMessage): void {
    clearTimeout(this.timer);
    const res = this.res;
    upstreamRes.on('error', () => res.destroy());
    // The upstream closed mid-body: the client must not take a truncated body for a whole one.
    upstreamRes.on('close', () => { if (!upstreamRes.complete) res.destroy(); });
    if (res.destroyed) {
      upstreamRes.destroy();
      return;
    }
    try {
      res.writeHead(upstreamRes.statusCode!, downstreamResponseHeaders(upstreamRes.rawHeaders));
    } catch (err) {
      this.logger.warn({ err }, 'gateway: upstream response head not valid');
      upstreamRes.destroy();
      sendProblem(res, problems.upstreamUnavailable);
      return;
    }
    // A response of unknown length (SSE, long poll, streamed download) gets its head at once,
    // not with the first chunk of the body.
    if (upstreamRes.headers['content-length'] === undefined) res.flushHeaders();
    upstreamRes.pipe(res);
  }

  onUpstreamError(err: Error): void {
    clearTimeout(this.timer);
    if (this.timedOut || this.res.destroyed) return;
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    this.logger.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'gateway: upstream unavailable');
    sendProblem(this.res, problems.upstreamUnavailable);
  }

  onTimeout(): void {
    const socket = this.upstreamReq.socket;
    // The client is still sending the body to a connected upstream: the wait starts after it.
    if (!this.upstreamReq.writableFinished && socket && !socket.connecting) {
      this.timer!.refresh();
      return;
    }
    this.timedOut = true;
    sendProblem(this.res, problems.upstreamTimeout);
    this.upstreamReq.destroy();
  }

  /** The client is gone (or sent a broken body): stop the upstream request. */
  abort(): void {
    clearTimeout(this.timer);
    this.upstreamReq.destroy();
  }

  onClientClose(): void {
    clearTimeout(this.timer);
    if (!this.res.writableFinished) this.upstreamReq.destroy();
  }
}
