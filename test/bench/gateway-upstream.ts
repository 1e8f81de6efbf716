import { createServer } from 'node:http';

// The gateway bench's product API: the smallest useful upstream, a fixed small JSON body for any
// path, in its own process (`node gateway-upstream.ts <port>`) so its CPU is counted apart.

const body = Buffer.from(JSON.stringify({ agents: [{ id: 'agent_1', name: 'bench agent', status: 'ready' }] }));
const port = Number(process.argv[2]);

const server = createServer((req, res) => {
  // Drain any request body before answering so keep-alive connections stay usable.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
