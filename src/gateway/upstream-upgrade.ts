import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { downstreamResponseHeaders } from './identity-headers.ts';
import { problems, writeProblem } from './problem-responses.ts';
import type { Upstream } from './upstream.ts';

// A WebSocket (or any HTTP/1.1 Upgrade) handshake passed to the upstream once admitted; on its
// 101 the two sockets are joined. Either side closing or failing ends both.

function rawHead(statusLine: string, headers: readonly string[]): string {
  let head = `${statusLine}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

function join(client: Socket, upstream: Socket): void {
  upstream.on('error', () => client.destroy());
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.pipe(client);
  client.pipe(upstream);
}

/** `socket` is the client's, with an 'error' listener already on it. */
export function forwardUpgrade(upstream: Upstream, req: IncomingMessage, socket: Socket, head: Buffer, headers: string[]): void {
  // Its own connection: an upgraded socket leaves the keep-alive pool for good.
  const upstreamReq = upstream.request({
    agent: false, hostname: upstream.hostname, port: upstream.port, method: req.method,
    path: upstream.basePath + req.url!, headers, setHost: false,
  });
  let answered = false;
  const timer = setTimeout(() => {
    answered = true;
    writeProblem(socket, problems.upstreamTimeout);
    upstreamReq.destroy();
  }, upstream.timeoutMs);
  const abandon = () => { clearTimeout(timer); if (!answered) upstreamReq.destroy(); };
  socket.on('close', abandon);
  upstreamReq.on('error', () => {
    clearTimeout(timer);
    if (answered) return;
    answered = true;
    writeProblem(socket, problems.upstreamUnavailable);
  });
  upstreamReq.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
    clearTimeout(timer);
    answered = true;
    socket.off('close', abandon);
    if (socket.destroyed) {
      upstreamSocket.destroy();
      return;
    }
    socket.write(rawHead(`HTTP/1.1 101 ${upstreamRes.statusMessage || 'Switching Protocols'}`, upstreamRes.rawHeaders));
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    join(socket, upstreamSocket);
  });
  // The upstream refused the upgrade: its answer goes to the client, then the connection closes
  // (the body is sent as is, delimited by the close).
  upstreamReq.on('response', (upstreamRes) => {
    clearTimeout(timer);
    answered = true;
    const headers = downstreamResponseHeaders(upstreamRes.rawHeaders);
    headers.push('connection', 'close');
    socket.write(rawHead(`HTTP/1.1 ${upstreamRes.statusCode} ${upstreamRes.statusMessage ?? ''}`, headers));
    upstreamRes.on('error', () => socket.destroy());
    upstreamRes.pipe(socket);
  });
  upstreamReq.end();
}
