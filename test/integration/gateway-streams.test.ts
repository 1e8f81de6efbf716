import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import WebSocket from 'ws';
import type { Config } from '../../config/config.schema.ts';
import { createGateway } from '../../src/gateway/gateway.ts';
import type { RoutePolicyFile } from '../../src/gateway/route-policy-file.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/cli.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { within } from '../helpers/gateway-node.ts';
import { rawRequest, routesFile, startUpstream, type TestUpstream } from '../helpers/upstream.ts';

// The proxy's mechanics (100 MB bodies: gateway-processes.test.ts, measured in the gateway's own
// process): SSE and WebSocket passed
// through, upstream failures as 502/504, clients and upstreams that go away mid-exchange.
let up: TestUpstream;
let t: TestApp;
let gw: string;
let org: TestOrg;
let other: TestOrg;
let key: string;

const MB = 1024 * 1024;

beforeAll(async () => {
  up = await startUpstream();
  t = await startApp({ UPSTREAM_URL: up.url, GATEHOUSE_ROUTES: routesFile(), GATEWAY_PORT: '0', GATEWAY_UPSTREAM_TIMEOUT_MS: '500' });
  const server = await t.app.gateway!.listen(0);
  gw = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  [org, other] = await Promise.all([createOrg(t), createOrg(t)]);
  key = (await addMember(t, org.orgId, 'member')).key;
});
afterAll(async () => {
  await t.close();
  await up.close();
});

const auth = () => ({ authorization: `Bearer ${key}` });
const streamPath = (name: string) => `/orgs/${org.orgId}/stream/${name}`;

/** Another gateway on the same app, with some config changed. */
async function extraGateway(overrides: Partial<Config>): Promise<{ url: string; close(): Promise<void> }> {
  const { platform, apiKeyTokens, secrets, productPermissions } = t.app.services;
  const gateway = await createGateway({
    config: { ...t.config, ...overrides }, logger: pino({ level: 'silent' }), db: t.db, platform, apiKeyTokens, secrets,
    notifications: t.app.notifications, routes: productPermissions as RoutePolicyFile,
  });
  const server = await gateway.listen(0);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => gateway.close() };
}

test('server-sent events pass through as they are sent, not when the stream ends', async () => {
  const started = Date.now();
  const res = await fetch(`${gw}${streamPath('sse')}`, { headers: auth() });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const firstAt = Date.now() - started;
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
  const endAt = Date.now() - started;
  expect(first).toContain('data: event 1');
  expect(rest).toContain('data: event 3');
  // Events are 100 ms apart: the first arrives well before the last was even written.
  expect(endAt - firstAt).toBeGreaterThanOrEqual(150);
});

function openSocket(path: string, headers: Record<string, string>): Promise<{ ws: WebSocket; hello: { org: string } } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.replace('http', 'ws')}${path}`, { headers });
    ws.once('message', (data) => resolve({ ws, hello: JSON.parse(data.toString()) }));
    ws.once('unexpected-response', (_req, res) => { resolve({ status: res.statusCode! }); res.resume(); });
    ws.once('error', reject);
  });
}

test('WebSocket pass-through with the caller\'s verified org; spoofed identity headers stripped', async () => {
  const opened = await openSocket(streamPath('ws'), { ...auth(), 'x-gatehouse-org-id': other.orgId });
  if (!('ws' in opened)) throw new Error(`upgrade refused: ${opened.status}`);
  expect(opened.hello.org).toBe(org.orgId);
  const echo = new Promise<string>((resolve) => opened.ws.once('message', (d) => resolve(d.toString())));
  opened.ws.send('ping');
  expect(await echo).toBe('echo:ping');
  const bytes = Buffer.alloc(256 * 1024, 7);
  const back = new Promise<Buffer>((resolve) => opened.ws.once('message', (d) => resolve(d as Buffer)));
  opened.ws.send(bytes);
  expect((await back).equals(bytes)).toBe(true);
  opened.ws.close();
});

test('WebSocket upgrades are refused like requests: no credential 401, another org 404, a traversal 400', async () => {
  const before = up.seen.length;
  expect(await openSocket(streamPath('ws'), {})).toEqual({ status: 401 });
  expect(await openSocket(`/orgs/${other.orgId}/stream/ws`, auth())).toEqual({ status: 404 });
  // (a WebSocket client resolves `..` and `%2e%2e` itself: an encoded slash goes out as is)
  expect(await openSocket(`/orgs/${org.orgId}/stream/x%2f..%2fws`, auth())).toEqual({ status: 400 });
  expect(up.seen.length).toBe(before);
});

test('slow upstream: 504 after GATEWAY_UPSTREAM_TIMEOUT_MS, and the upstream request is abandoned', async () => {
  const aborted = up.aborted;
  const started = Date.now();
  const res = await rawRequest(gw, 'GET', `${streamPath('slow')}?ms=5000`, auth());
  expect(res.status).toBe(504);
  expect(JSON.parse(res.body)).toMatchObject({ status: 504, code: 'gateway.upstream_timeout' });
  expect(Date.now() - started).toBeLessThan(3000);
  await within(2000, () => up.aborted > aborted, 'the upstream request was cancelled');
});

test('upstream down: 502 gateway.upstream_unavailable', async () => {
  const down = await extraGateway({ upstreamUrl: `http://127.0.0.1:${await freePort()}` });
  try {
    const res = await rawRequest(down.url, 'GET', `/orgs/${org.orgId}/agents`, auth());
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 502, code: 'gateway.upstream_unavailable' });
  } finally {
    await down.close();
  }
});

test('GATEWAY_FORWARD_AUTHORIZATION: the caller\'s Authorization reaches the upstream (off by default: gateway-proxy.test.ts)', async () => {
  const forwarding = await extraGateway({ gatewayForwardAuthorization: true });
  try {
    const res = await rawRequest(forwarding.url, 'GET', `/orgs/${org.orgId}/agents`, auth());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).headers.authorization).toBe(`Bearer ${key}`);
  } finally {
    await forwarding.close();
  }
});

test('rate limit per API key: 429 with Retry-After, and the refused request never reaches the upstream', async () => {
  const limited = await extraGateway({ gatewayKeyRateLimit: 2 });
  try {
    const before = up.seen.length;
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await rawRequest(limited.url, 'GET', `/orgs/${org.orgId}/agents`, auth());
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers['retry-after'] as string;
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(up.seen.length - before).toBe(statuses.filter((s) => s === 200).length);
  } finally {
    await limited.close();
  }
});

test('an upstream that dies mid-body: the client\'s connection is cut (no truncated 200 taken as whole), the gateway keeps serving', async () => {
  await expect(rawRequest(gw, 'GET', streamPath('hang-body'), auth())).rejects.toThrow();
  expect((await rawRequest(gw, 'GET', `/orgs/${org.orgId}/agents`, auth())).status).toBe(200);
});

test('a client that disconnects mid-request: the upstream request is aborted and the process keeps serving', async () => {
  const aborted = up.aborted;
  const { hostname, port } = new URL(gw);
  const req = http.request({ hostname, port, method: 'POST', path: streamPath('upload'), agent: false, headers: { ...auth(), 'content-length': String(50 * MB) } });
  req.on('error', () => {});
  req.write(Buffer.alloc(2 * MB, 1));
  await within(2000, () => up.seen.some((s) => s.url === streamPath('upload') && up.uploads.length >= 0), 'the upload reached the upstream');
  await new Promise((r) => setTimeout(r, 50));
  req.destroy();
  await within(2000, () => up.aborted > aborted, 'the upstream request was aborted');
  expect((await rawRequest(gw, 'GET', `/orgs/${org.orgId}/agents`, auth())).status).toBe(200);
});

test('a client that disconnects mid-response: the upstream response is abandoned and the process keeps serving', async () => {
  const aborted = up.aborted;
  const { hostname, port } = new URL(gw);
  await new Promise<void>((resolve, reject) => {
    http.get({ hostname, port, path: `${streamPath('download')}?mb=100`, agent: false, headers: auth() }, (res) => {
      res.once('data', () => { res.destroy(); resolve(); });
      res.on('error', () => {});
    }).on('error', reject);
  });
  await within(2000, () => up.aborted > aborted, 'the upstream response was abandoned');
  expect((await rawRequest(gw, 'GET', `/orgs/${org.orgId}/agents`, auth())).status).toBe(200);
});
