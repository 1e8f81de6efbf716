import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetadataServer {
  /** Path → [status, body]; what the server answers for that path (404 for any other). */
  documents: Map<string, { status: number; body: string }>;
  url(path: string): string;
  close(): Promise<void>;
}

/** An IdP's metadata endpoint on loopback, whose documents a test changes as the IdP would. */
export async function startMetadataServer(): Promise<MetadataServer> {
  const documents = new Map<string, { status: number; body: string }>();
  const server = createServer((req, res) => {
    const doc = documents.get(req.url ?? '');
    res.writeHead(doc?.status ?? 404, { 'content-type': 'application/samlmetadata+xml' });
    res.end(doc?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    documents,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
