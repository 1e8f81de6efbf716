import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';

// The gateway bench's baseline: a bare Node pass-through proxy with no auth, in its own process
// (`node gateway-bare-proxy.ts <port> <upstreamUrl>`). It does what any proxy must (keep-alive
// upstream connections, hop-by-hop headers dropped, bodies piped both ways) and nothing else, so
// Gatehouse's ratio to it is the cost of authenticating, authorizing and adding identity.

const port = Number(process.argv[2]);
const upstream = new URL(process.argv[3]!);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

// RFC 9110 §7.6.1: connection-specific fields are not forwarded.
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) if (!hopByHop.has(name)) out[name] = headers[name];
  return out;
}

const server = createServer((req, res) => {
  const upstreamReq = request({
    host: upstream.hostname, port: upstream.port, agent, method: req.method, path: req.url,
    headers: { ...forwardable(req.headers), host: upstream.host },
  }, (upstreamRes) => {
    res.writeHead(upstreamRes.statusCode ?? 502, forwardable(upstreamRes.headers));
    upstreamRes.pipe(res);
  });
  upstreamReq.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstreamReq);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
});
