import { mkdtempSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

// A product API stand-in on loopback for gateway tests: it records what reached it and answers
//   /…/slow?ms=N        after N ms
//   /…/download?mb=N    N MiB streamed in 64 KiB chunks (no content-length)
//   /…/upload[?pauseMs=N] counts the body's bytes (never keeps them) and answers the count
//   /…/sse              three server-sent events, 100 ms apart
//   /…/hang-body        a head, part of a body, then the connection is cut
//   anything else       200 with JSON: method, url, headers (as received)
// and a WebSocket echo on every path.

export interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
}

export interface TestUpstream {
  url: string;
  port: number;
  /** Every request head that reached the upstream, in order. */
  seen: Seen[];
  /** Upload bodies fully received: byte counts. */
  uploads: number[];
  /** Requests whose client went away before the upstream finished. */
  aborted: number;
  /** Bytes of the latest download written (accepted by the socket) so far. */
  downloadSent: number;
  /** Bytes of the latest upload read so far. */
  uploadReceived: number;
  close(): Promise<void>;
}

const chunk = Buffer.alloc(64 * 1024, 0x61);

function download(state: TestUpstream, res: http.ServerResponse, mb: number): void {
  let left = mb * 16;
  state.downloadSent = 0;
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const pump = () => {
    while (left > 0) {
      left--;
      state.downloadSent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function sse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let n = 0;
  const tick = setInterval(() => {
    n++;
    res.write(`id: ${n}\ndata: event ${n}\n\n`);
    if (n === 3) {
      clearInterval(tick);
      res.end();
    }
  }, 100);
  res.on('close', () => clearInterval(tick));
}

export async function startUpstream(): Promise<TestUpstream> {
  const state: TestUpstream = { url: '', port: 0, seen: [], uploads: [], aborted: 0, downloadSent: 0, uploadReceived: 0, close: async () => {} };
  const handle = (req: IncomingMessage, res: http.ServerResponse) => {
    state.seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
    const url = new URL(req.url!, 'http://upstream');
    const last = url.pathname.split('/').pop();
    res.on('close', () => { if (!res.writableFinished) state.aborted++; });
    req.on('error', () => {});
    if (last === 'slow') {
      const timer = setTimeout(() => res.end('late'), Number(url.searchParams.get('ms') ?? 1000));
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (last === 'download') return download(state, res, Number(url.searchParams.get('mb') ?? 1));
    if (last === 'sse') return sse(res);
    if (last === 'hang-body') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => res.destroy(), 50);
      return;
    }
    if (last === 'upload') {
      // ?pauseMs=N: stop reading for N ms after the first chunk (a slow consumer).
      let pauseMs = Number(url.searchParams.get('pauseMs') ?? 0);
      let bytes = 0;
      state.uploadReceived = 0;
      req.on('data', (d: Buffer) => {
        bytes += d.length;
        state.uploadReceived = bytes;
        if (pauseMs > 0) {
          req.pause();
          setTimeout(() => req.resume(), pauseMs);
          pauseMs = 0;
        }
      });
      req.on('end', () => {
        state.uploads.push(bytes);
        res.end(JSON.stringify({ bytes }));
      });
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
  };
  const server: Server = http.createServer(handle);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${data.toString()}`));
    ws.send(JSON.stringify({ hello: true, org: req.headers['x-gatehouse-org-id'] ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  state.close = async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

/** The route policy gateway tests run under. */
export const testRoutes = `permissions:
  agents:read:  [owner, admin, member, viewer]
  agents:write: [owner, admin, member]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
  - match: POST /orgs/:orgId/agents
    permission: agents:write
  - match: "* /orgs/:orgId/stream/*"
    permission: agents:read
  - match: GET /by-slug/:orgSlug/agents
    permission: agents:read
  - match: GET /public/*
    auth: none
`;

/** Writes `yaml` to a fresh temp file: its path, for GATEHOUSE_ROUTES. */
export function routesFile(yaml = testRoutes): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-routes-'));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, yaml);
  return file;
}

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One request with nothing normalized on the way (fetch resolves `..` and `%2e` before sending):
 * the path and headers go out exactly as given; headers may be a flat list to repeat a name.
 */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string> | string[] = {}, body?: string): Promise<RawReply> {
  const { hostname, port, host } = new URL(base);
  // A flat list is sent as is, so it needs its own Host.
  const head = Array.isArray(headers) ? ['host', host, ...headers] : headers;
  return new Promise((resolve, reject) => {
    const req = http.request({ agent: false, hostname, port, method, path, headers: head }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // A test must fail with a reason, not hang until jest's own timeout.
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 15 s`)));
    req.end(body);
  });
}
