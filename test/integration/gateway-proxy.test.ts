import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import * as oidc from 'openid-client';
import type { Config } from '../../config/config.schema.ts';
import { createGateway } from '../../src/gateway/gateway.ts';
import { GatewayKeys } from '../../src/gateway/gateway-keys.ts';
import type { RoutePolicyFile } from '../../src/gateway/route-policy-file.ts';
import { gatewayResource, issuerUrl } from '../../src/oidc/provider.ts';
import pino from 'pino';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { rawRequest, routesFile, startUpstream, type TestUpstream } from '../helpers/upstream.ts';

// The gateway end to end: the real app (UPSTREAM_URL, GATEHOUSE_ROUTES) in front of a real
// upstream on loopback. Every refusal also asserts that nothing reached the upstream.
let up: TestUpstream;
let t: TestApp;
let gw: string;
let a: TestOrg;
let b: TestOrg;
let member: { userId: string; key: string };
let viewer: { userId: string; key: string };

beforeAll(async () => {
  up = await startUpstream();
  t = await startAppAtPublicUrl({ UPSTREAM_URL: up.url, GATEHOUSE_ROUTES: routesFile(), GATEWAY_PORT: '0' });
  const server = await t.app.gateway!.listen(0);
  gw = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  [a, b] = await Promise.all([createOrg(t), createOrg(t)]);
  [member, viewer] = await Promise.all([addMember(t, a.orgId, 'member'), addMember(t, a.orgId, 'viewer')]);
});
afterAll(async () => {
  await t.close();
  await up.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const keyId = (key: string) => key.split('_')[1];

/** Runs `send` and asserts the upstream received nothing meanwhile. */
async function unseen<T>(send: () => Promise<T>): Promise<T> {
  const before = up.seen.length;
  const result = await send();
  expect(up.seen.length).toBe(before);
  return result;
}

test('allowed by role: a member\'s key reaches the upstream with its verified identity', async () => {
  const res = await rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents?x=1`, bearer(member.key));
  expect(res.status).toBe(200);
  const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
  expect(seen.url).toBe(`/orgs/${a.orgId}/agents?x=1`);
  expect(seen.headers).toMatchObject({
    'x-gatehouse-org-id': a.orgId,
    'x-gatehouse-user-id': member.userId,
    'x-gatehouse-role': 'member',
    'x-gatehouse-credential': `api_key:${keyId(member.key)}`,
    'x-forwarded-for': '127.0.0.1',
    'x-forwarded-proto': 'http',
  });
  const permissions = seen.headers['x-gatehouse-permissions']!.split(' ');
  expect(permissions).toEqual([...permissions].sort());
  expect(permissions).toEqual(expect.arrayContaining(['agents:read', 'agents:write']));
  expect(seen.headers['x-gatehouse-assertion']!.split('.')).toHaveLength(3);
  expect(seen.headers.authorization).toBeUndefined();
});

test('denied by role: a viewer\'s key may read but not write (403), and the write never reaches the upstream', async () => {
  expect((await rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents`, bearer(viewer.key))).status).toBe(200);
  const res = await unseen(() => rawRequest(gw, 'POST', `/orgs/${a.orgId}/agents`, { ...bearer(viewer.key), 'content-type': 'application/json' }, '{"name":"x"}'));
  expect(res.status).toBe(403);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(JSON.parse(res.body)).toMatchObject({ status: 403, code: 'gateway.forbidden' });
});

test('org mismatch in the path: another org\'s id or slug is a 404, the same answer as no route', async () => {
  const noRoute = await unseen(() => rawRequest(gw, 'GET', '/nowhere', bearer(member.key)));
  expect(noRoute.status).toBe(404);
  for (const path of [`/orgs/${b.orgId}/agents`, `/by-slug/${b.slug}/agents`]) {
    const res = await unseen(() => rawRequest(gw, 'GET', path, bearer(member.key)));
    expect(res.status).toBe(404);
    expect(res.body).toBe(noRoute.body);
  }
  expect((await rawRequest(gw, 'GET', `/by-slug/${a.slug}/agents`, bearer(member.key))).status).toBe(200);
});

test('missing credential: 401 with a Bearer challenge and no error', async () => {
  const res = await unseen(() => rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents`));
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
  expect(JSON.parse(res.body)).toMatchObject({ code: 'gateway.unauthenticated' });
});

test('a service account\'s access token for the gateway resource (client credentials) passes; an expired token is a 401 invalid_token', async () => {
  const sa = await a.owner.api('POST', `/api/v1/orgs/${a.orgId}/service-accounts`, { name: 'gateway-sync', role: 'viewer' });
  expect(sa.status).toBe(201);
  const config = await oidc.discovery(new URL(issuerUrl(t.config)), sa.body.clientId, undefined, oidc.ClientSecretBasic(sa.body.clientSecret), { execute: [oidc.allowInsecureRequests] });
  const tokens = await oidc.clientCredentialsGrant(config, { resource: gatewayResource(t.config) });
  const ok = await rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents`, bearer(tokens.access_token));
  expect(ok.status).toBe(200);
  const seen = JSON.parse(ok.body).headers as Record<string, string>;
  expect(seen['x-gatehouse-credential']).toBe(`service_account:${sa.body.id}`);
  expect(seen['x-gatehouse-user-id']).toBeUndefined();
  expect(seen['x-gatehouse-role']).toBe('viewer');

  const keys = await GatewayKeys.start({ db: t.db, secrets: t.app.services.secrets, notifications: t.app.notifications, logger: pino({ level: 'silent' }), issuer: issuerUrl(t.config) });
  const expired = await keys.sign(
    { iss: issuerUrl(t.config), aud: gatewayResource(t.config), sub: member.userId, org_id: a.orgId, iat: Math.floor(Date.now() / 1000) - 120 },
    { typ: 'at+jwt', expiresAt: Date.now() - 60_000 },
  );
  keys.stop();
  const res = await unseen(() => rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents`, bearer(expired)));
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="invalid_token"');
});

test('malformed Authorization headers are 401s that never reach the upstream', async () => {
  const [, id, secret] = member.key.split('_');
  const shapes = [
    '', 'Bearer', 'Bearer ', `Basic ${Buffer.from(`u:${member.key}`).toString('base64')}`, member.key, `Bearer  ${member.key}`,
    `Bearer ${member.key} extra`, `Bearer gh_${id}_${secret!.slice(0, -2)}xx`, `Bearer gh_${id}`, 'Bearer gh___', `Token ${member.key}`,
    'Bearer a.b.c', `Bearer ${'x'.repeat(8000)}`, `Bearer ${member.key},Bearer ${member.key}`,
  ];
  for (const authorization of shapes) {
    const res = await unseen(() => rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents`, { authorization }));
    expect([authorization.slice(0, 40), res.status]).toEqual([authorization.slice(0, 40), 401]);
  }
});

test('spoofed X-Gatehouse-* headers (any case, repeated, named in Connection) are stripped; Authorization is not forwarded', async () => {
  const res = await rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents`, [
    'Authorization', `Bearer ${viewer.key}`,
    'X-Gatehouse-Org-Id', b.orgId,
    'x-gatehouse-org-id', b.orgId,
    'X-GATEHOUSE-ROLE', 'owner',
    'X-Gatehouse-User-Id', b.owner.userId,
    'X-Gatehouse-Permissions', 'agents:write',
    'X-Gatehouse-Assertion', 'forged.jwt.here',
    'X-Gatehouse-Workspace-Id', 'w',
    'Connection', 'keep-alive, X-Gatehouse-Org-Id, x-gatehouse-role',
    'Proxy-Authorization', 'Basic eA==',
  ]);
  expect(res.status).toBe(200);
  const seen = up.seen.at(-1)!;
  const gatehouse = seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.toLowerCase().startsWith('x-gatehouse-')).map((h) => h.toLowerCase());
  expect(gatehouse.sort()).toEqual(['x-gatehouse-assertion', 'x-gatehouse-credential', 'x-gatehouse-org-id', 'x-gatehouse-permissions', 'x-gatehouse-role', 'x-gatehouse-user-id']);
  expect(seen.headers).toMatchObject({ 'x-gatehouse-org-id': a.orgId, 'x-gatehouse-role': 'viewer', 'x-gatehouse-user-id': viewer.userId });
  expect(seen.headers['x-gatehouse-permissions']).not.toContain('agents:write');
  expect(seen.headers['x-gatehouse-assertion']).not.toBe('forged.jwt.here');
  expect(seen.headers.authorization).toBeUndefined();
  expect(seen.headers['proxy-authorization']).toBeUndefined();
});

test('a public route reaches the upstream without a credential and with every x-gatehouse-* stripped', async () => {
  const res = await rawRequest(gw, 'GET', '/public/status', { 'x-gatehouse-org-id': a.orgId, 'x-gatehouse-role': 'owner', ...bearer(member.key) });
  expect(res.status).toBe(200);
  const headers = JSON.parse(res.body).headers as Record<string, string>;
  expect(Object.keys(headers).filter((h) => h.startsWith('x-gatehouse-'))).toEqual([]);
  expect(headers.authorization).toBeUndefined();
});

test('duplicate org parameters (query, repeated headers, X-Forwarded-*) cannot change the org the upstream sees', async () => {
  const res = await rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents?orgId=${b.orgId}&org_id=${b.orgId}&orgId=${b.orgId}`, [
    'authorization', `Bearer ${member.key}`, 'x-gatehouse-org-id', b.orgId, 'X-Gatehouse-Org-Id', b.orgId, 'x-forwarded-for', '10.0.0.1',
  ]);
  expect(res.status).toBe(200);
  const seen = up.seen.at(-1)!;
  expect(seen.headers['x-gatehouse-org-id']).toBe(a.orgId);
  expect(seen.rawHeaders.filter((h) => h.toLowerCase() === 'x-gatehouse-org-id')).toHaveLength(1);
  // Not behind a trusted proxy: the client's own X-Forwarded-For is replaced, not appended to.
  expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
  // B's key on A's path with A's id in the query: still B's org, so 404.
  expect((await unseen(() => rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents?orgId=${b.orgId}`, bearer(b.owner.key)))).status).toBe(404);
});

test('path traversal and its encoded variants are 400s before matching and never reach the upstream', async () => {
  const bad = [
    `/orgs/${a.orgId}/../${b.orgId}/agents`, `/orgs/${b.orgId}/../${a.orgId}/agents`, `/orgs/${a.orgId}/./agents`,
    `/orgs/${a.orgId}/%2e%2e/${b.orgId}/agents`, `/orgs/${a.orgId}/%2E%2E/${b.orgId}/agents`, `/orgs/${a.orgId}/.%2e/${b.orgId}/agents`,
    `/orgs/${a.orgId}/..%2f${b.orgId}/agents`, `/orgs/${a.orgId}%2F..%2F${b.orgId}/agents`, `/orgs/${a.orgId}/..%5c${b.orgId}/agents`,
    `/orgs/${a.orgId}/..%5C${b.orgId}/agents`, `/orgs/${a.orgId}/%252e%252e/${b.orgId}/agents`, `/orgs/${a.orgId}/%25252e/agents`,
    `/orgs/${a.orgId}\\..\\${b.orgId}/agents`, `/orgs//${a.orgId}/agents`, `//orgs/${a.orgId}/agents`, `/orgs/${a.orgId}/agents%00`,
    `/orgs/${a.orgId}/agents%`, `/orgs/${a.orgId}/agents%zz`, `/orgs/${a.orgId}/agents/..`, `/orgs/${a.orgId}/agents#x`,
    `/orgs/${a.orgId}/${'a'.repeat(3000)}`, `http://127.0.0.1/orgs/${a.orgId}/agents`,
  ];
  for (const path of bad) {
    const res = await unseen(() => rawRequest(gw, 'GET', path, bearer(member.key)));
    expect([path.slice(0, 80), res.status]).toEqual([path.slice(0, 80), 400]);
  }
  expect(JSON.parse((await rawRequest(gw, 'GET', `/orgs/${a.orgId}/../x`)).body)).toMatchObject({ code: 'gateway.bad_request' });
});

test('an accepted path goes upstream exactly as matched: percent-escapes and the query untouched, nothing normalized', async () => {
  const path = `/orgs/${a.orgId}/stream/a%20b%41%7E/c?q=%2e%2e&x=a/../b`;
  const res = await rawRequest(gw, 'GET', path, bearer(member.key));
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).url).toBe(path);
});

test('oversized request headers get Node\'s 431 and never reach the upstream', async () => {
  const { port } = new URL(gw);
  const reply = await unseen(() => new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`GET /orgs/${a.orgId}/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${member.key}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  }));
  expect(reply.startsWith('HTTP/1.1 431')).toBe(true);
  expect((await rawRequest(gw, 'GET', `/orgs/${a.orgId}/agents`, bearer(member.key))).status).toBe(200);
});

/** Writes `bytes` on a fresh connection to the gateway and collects what comes back for `ms`. */
function rawExchange(bytes: string, ms = 400): Promise<string> {
  const { port } = new URL(gw);
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (reply += d));
    socket.on('error', reject);
    setTimeout(() => { socket.destroy(); resolve(reply); }, ms);
  });
}

test('request smuggling: a Connection header naming Content-Length does not turn the body into a second upstream request', async () => {
  const inner = `GET /orgs/${b.orgId}/smuggled HTTP/1.1\r\nHost: up\r\nX-Gatehouse-Org-Id: ${b.orgId}\r\n\r\n`;
  const before = up.seen.length;
  const reply = await rawExchange(
    `GET /orgs/${a.orgId}/agents HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${member.key}\r\n`
    + `Connection: keep-alive, Content-Length\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`);
  expect(reply).toMatch(/^HTTP\/1\.1 200/);
  const seen = up.seen.slice(before);
  expect(seen.map((s) => s.url)).toEqual([`/orgs/${a.orgId}/agents`]);
  expect(seen[0]!.headers['content-length']).toBe(String(inner.length));
});

test('identity headers spelled with underscores (X_Gatehouse_Org_Id, read as the same by CGI-style stacks) are stripped too', async () => {
  const res = await rawRequest(gw, 'GET', '/public/status', [
    'X_Gatehouse_Org_Id', b.orgId, 'X-Gatehouse_User-Id', b.owner.userId, 'x_gatehouse_role', 'owner', 'Proxy_Authorization', 'Basic eA==',
  ]);
  expect(res.status).toBe(200);
  const names = Object.keys(JSON.parse(res.body).headers as Record<string, string>).map((h) => h.replaceAll('_', '-'));
  expect(names.filter((h) => h.startsWith('x-gatehouse-') || h.startsWith('proxy-'))).toEqual([]);
});

test('path parameters (`;`, as Java servlet containers read them) are 400s: `..;` cannot climb into another org', async () => {
  for (const path of [`/orgs/${a.orgId}/stream/..;/..;/${b.orgId}/agents`, `/orgs/${a.orgId}/agents;x=1`, `/orgs/${a.orgId}/stream/..%3b/x`]) {
    const res = await unseen(() => rawRequest(gw, 'GET', path, bearer(member.key)));
    expect([path, res.status]).toEqual([path, 400]);
  }
});

test('only WebSocket upgrades are tunnelled: an h2c upgrade is a 400 and never reaches the upstream', async () => {
  const before = up.seen.length;
  const reply = await rawExchange(
    `GET /orgs/${a.orgId}/stream/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${member.key}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`);
  expect(reply).toMatch(/^HTTP\/1\.1 400/);
  expect(up.seen.length).toBe(before);
});

describe('failed authentications are limited per client address (GATEWAY_FAILED_AUTH_RATE_LIMIT)', () => {
  /** A second gateway on the same app and upstream, with its own config (its own buckets). */
  async function gatewayWith(overrides: Partial<Config>): Promise<{ url: string; close(): Promise<void> }> {
    const { platform, apiKeyTokens, secrets, productPermissions } = t.app.services;
    const gateway = await createGateway({
      config: { ...t.config, ...overrides }, logger: pino({ level: 'silent' }), db: t.db, platform, apiKeyTokens, secrets,
      notifications: t.app.notifications, routes: productPermissions as RoutePolicyFile,
    });
    const server = await gateway.listen(0);
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => gateway.close() };
  }
  const guess = () => `gh_${randomBytes(8).toString('hex')}_${randomBytes(24).toString('hex')}`;
  const from = (address: string, key: string) => ({ ...bearer(key), 'x-forwarded-for': address });
  const agents = () => `/orgs/${a.orgId}/agents`;

  test('past the limit: 429 with Retry-After before any credential is looked up, even a valid one; other addresses go on; a forged X-Forwarded-For prefix does not escape', async () => {
    const limited = await gatewayWith({ gatewayFailedAuthRateLimit: 3, trustProxy: true });
    const reads = jest.spyOn(t.app.services.platform, 'findApiKeyCredential');
    try {
      for (let i = 0; i < 3; i++) expect((await unseen(() => rawRequest(limited.url, 'GET', agents(), from('203.0.113.7', guess())))).status).toBe(401);
      const over = await unseen(() => rawRequest(limited.url, 'GET', agents(), from('203.0.113.7', guess())));
      expect(over.status).toBe(429);
      expect(JSON.parse(over.body)).toMatchObject({ status: 429, code: 'gateway.rate_limited' });
      const retryAfter = Number(over.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);

      reads.mockClear();
      const blocked = [
        from('203.0.113.7', guess()),
        from('198.51.100.1, 203.0.113.7', guess()), // the client's own entries come first; the trusted proxy's is last
        from('203.0.113.7', member.key), // a valid key too: nothing is looked at
        { 'x-forwarded-for': '203.0.113.7' }, // no credential at all
      ];
      for (const headers of blocked) {
        const res = await unseen(() => rawRequest(limited.url, 'GET', agents(), headers));
        expect(res.status).toBe(429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      expect(reads).not.toHaveBeenCalled(); // no database work while blocked
      expect((await rawRequest(limited.url, 'GET', agents(), from('203.0.113.8', member.key))).status).toBe(200);

      await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50));
      expect((await rawRequest(limited.url, 'GET', agents(), from('203.0.113.7', member.key))).status).toBe(200);
    } finally {
      reads.mockRestore();
      await limited.close();
    }
  });

  test('without GATEHOUSE_TRUST_PROXY the socket address counts: X-Forwarded-For cannot spread failures over invented addresses', async () => {
    const limited = await gatewayWith({ gatewayFailedAuthRateLimit: 1, trustProxy: false });
    try {
      expect((await rawRequest(limited.url, 'GET', agents(), from('203.0.113.1', guess()))).status).toBe(401);
      expect((await rawRequest(limited.url, 'GET', agents(), from('203.0.113.2', guess()))).status).toBe(429);
      expect((await unseen(() => rawRequest(limited.url, 'GET', agents(), from('203.0.113.3', member.key)))).status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  test('0 turns the limit off: failures stay 401s', async () => {
    const open = await gatewayWith({ gatewayFailedAuthRateLimit: 0 });
    try {
      for (let i = 0; i < 25; i++) expect((await rawRequest(open.url, 'GET', agents(), bearer(guess()))).status).toBe(401);
      expect((await rawRequest(open.url, 'GET', agents(), bearer(member.key))).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
