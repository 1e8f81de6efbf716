import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import * as oidc from 'openid-client';
import pino from 'pino';
import { mountRoutes } from '../../src/http/api.ts';
import { defineRoute, type RouteSpec } from '../../src/http/route.ts';
import { apiRoutes } from '../../src/http/routes.ts';
import { platformKeys, type PlatformKeysArgs } from '../../src/cli/platform-keys.ts';
import type { Database } from '../../src/db/database.ts';
import { main } from '../../src/main.ts';
import { client, startAppAtPublicUrl, type Client, type TestApp } from '../helpers/app.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { snapshot } from '../helpers/snapshot.ts';

// The platform API (/api/v1/platform/*) for the issuer's platform clients, with the platform
// team's keys (ghp_…), and the zone walls between platform keys and org credentials. The clients
// it registers are checked with openid-client against the issuer, an independent implementation.
let t: TestApp;
let org: TestOrg;
let platform: Client;
let platformKeyId: string;
const silent = pino({ level: 'silent' });
const redirectUri = 'https://app.example.test/callback';

/** Runs the `platform-keys` command on the test app's database; its exit code and output. */
async function cli(args: PlatformKeysArgs): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  const error = jest.spyOn(console, 'error').mockImplementation((s: string) => void err.push(s));
  try {
    const code = await platformKeys({ platform: t.app.services.platform, tokens: t.app.services.apiKeyTokens, logger: silent }, args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

async function newPlatformKey(): Promise<{ id: string; key: string }> {
  const res = await cli({ action: 'create', name: 'ops', json: true });
  expect(res.code).toBe(0);
  return JSON.parse(res.out);
}

/** How many platform clients carry `marker` in their name or a redirect URI (none after a refusal). */
async function clientsMarked(marker: string): Promise<number> {
  const rows = await t.db.withoutOrg((em) => em.execute<{ n: string | number }[]>(
    `SELECT count(*) AS n FROM oauth_clients WHERE name LIKE ? OR array_to_string(redirect_uris, ' ') LIKE ?`, [`%${marker}%`, `%${marker}%`]));
  return Number(rows[0]!.n);
}

async function discover(clientId: string, clientSecret: string | null): Promise<oidc.Configuration> {
  const auth = clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None();
  return oidc.discovery(new URL(`${t.url}/oidc`), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

/** An authorization request with PKCE, as the app would send it; the issuer's first answer. */
async function authorize(rp: oidc.Configuration): Promise<Response> {
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid', state: oidc.randomState(),
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  return fetch(url, { redirect: 'manual' });
}

/** The token endpoint's error for a made-up code: invalid_grant once the client authenticated. */
async function tokenError(clientId: string, clientSecret: string): Promise<{ status: number; error: string }> {
  const res = await fetch(`${t.url}/oidc/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: redirectUri }).toString(),
  });
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  org = await createOrg(t);
  const created = await newPlatformKey();
  platformKeyId = created.id;
  platform = client(t.url, created.key);
});
afterAll(() => t.close());

describe('platform clients', () => {
  test('a client created through the platform API works with openid-client: discovery, and an authorization request the issuer accepts', async () => {
    const res = await platform('POST', '/api/v1/platform/clients', { name: 'Web', redirectUris: [redirectUri], postLogoutRedirectUris: ['https://app.example.test/'] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ clientId: expect.stringMatching(/^cl_[0-9a-f]{24}$/), clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const rp = await discover(res.body.clientId, res.body.clientSecret);
    const answer = await authorize(rp);
    expect(answer.status).toBe(303);
    expect(new URL(answer.headers.get('location')!, t.url).pathname).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
    // the secret shown once is the one the token endpoint takes: the made-up code is what fails
    expect(await tokenError(res.body.clientId, res.body.clientSecret)).toEqual({ status: 400, error: 'invalid_grant' });
  });

  test('a public client gets no secret and is accepted with PKCE', async () => {
    const res = await platform('POST', '/api/v1/platform/clients', { name: 'SPA', redirectUris: [redirectUri], public: true });
    expect(res.status).toBe(201);
    expect(res.body.clientSecret).toBeNull();
    expect((await authorize(await discover(res.body.clientId, null))).status).toBe(303);
  });

  test('list and get show the client and never a secret, sealed or not', async () => {
    const created = await platform('POST', '/api/v1/platform/clients', { name: 'Listed', redirectUris: [redirectUri], backchannelLogoutUri: 'https://app.example.test/bcl' });
    const { clientId, clientSecret } = created.body;
    const [sealed] = await t.db.withoutOrg((em) => em.execute<{ secret: string }[]>('SELECT secret FROM oauth_clients WHERE client_id = ?', [clientId]));
    const one = await platform('GET', `/api/v1/platform/clients/${clientId}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      clientId, name: 'Listed', public: false, redirectUris: [redirectUri], postLogoutRedirectUris: [],
      backchannelLogoutUri: 'https://app.example.test/bcl', createdAt: expect.any(String),
    });
    const texts = [one.text];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: { clientId: string }[]; nextCursor: string | null }; text: string } =
        await platform('GET', `/api/v1/platform/clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      texts.push(page.text);
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = texts.join('\n');
    expect(all).toContain(clientId);
    for (const secret of [clientSecret, sealed!.secret]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/secret/i);
  });

  test('delete deactivates the client: the issuer refuses it at once and the API no longer shows it', async () => {
    const created = await platform('POST', '/api/v1/platform/clients', { name: 'Doomed', redirectUris: [redirectUri] });
    const { clientId, clientSecret } = created.body;
    const rp = await discover(clientId, clientSecret);
    expect((await authorize(rp)).status).toBe(303);
    const res = await platform('DELETE', `/api/v1/platform/clients/${clientId}`);
    expect(res.status).toBe(204);
    const refused = await authorize(rp);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/invalid_client|invalid_request/);
    expect(await tokenError(clientId, clientSecret)).toEqual({ status: 401, error: 'invalid_client' });
    expect((await platform('GET', `/api/v1/platform/clients/${clientId}`)).status).toBe(404);
    expect((await platform('DELETE', `/api/v1/platform/clients/${clientId}`)).status).toBe(404);
    const list = await platform('GET', '/api/v1/platform/clients?limit=200');
    expect(list.text).not.toContain(clientId);
  });

  test('an unknown client id answers 404 on get and delete', async () => {
    const unknown = `cl_${'0'.repeat(24)}`;
    for (const method of ['GET', 'DELETE']) {
      const res = await platform(method, `/api/v1/platform/clients/${unknown}`);
      expect({ method, status: res.status, code: res.body.code }).toEqual({ method, status: 404, code: 'client.not_found' });
    }
  });

  test('a malformed client id (or a service account\'s) answers 404 on get and delete', async () => {
    for (const id of ['nope', 'CL_0123', `cl_${'g'.repeat(24)}`, `sa_${'0'.repeat(24)}`, `cl_${'0'.repeat(24)}x`, '%20']) {
      for (const method of ['GET', 'DELETE']) {
        const res = await platform(method, `/api/v1/platform/clients/${id}`);
        expect({ id, method, status: res.status }).toEqual({ id, method, status: 404 });
      }
    }
  });

  test('the OpenAPI document lists the platform routes under the platform key scheme only', async () => {
    const doc = (await client(t.url)('GET', '/api/v1/openapi.json')).body;
    expect(doc.components.securitySchemes.platformKey).toMatchObject({ type: 'http', scheme: 'bearer', description: expect.stringContaining('ghp_') });
    const ops = [doc.paths['/platform/clients'].post, doc.paths['/platform/clients'].get, doc.paths['/platform/clients/{clientId}'].get, doc.paths['/platform/clients/{clientId}'].delete];
    for (const op of ops) expect(op.security).toEqual([{ platformKey: [] }]);
    expect(doc.paths['/platform/clients'].post.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect(doc.paths['/orgs/{orgId}'].get.security).toBeUndefined();
  });

  test('a list cursor this API did not issue is a 400 problem', async () => {
    const res = await platform('GET', '/api/v1/platform/clients?cursor=bm9wZQ');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'query.cursor' })]);
  });
});

describe('bad bodies are 400 problems and create nothing', () => {
  const marker = () => `m${randomUUID().slice(0, 8)}`;
  test.each([
    ['an unknown field', (m: string) => ({ name: m, redirectUris: [redirectUri], grantTypes: ['client_credentials'] }), 'body', /unknown field\(s\): grantTypes/],
    ['a redirect URI with a fragment', (m: string) => ({ name: m, redirectUris: ['https://app.example.test/cb#frag'] }), 'body.redirectUris.0', /without a fragment/],
    ['a plain-http redirect URI to another host', (m: string) => ({ name: m, redirectUris: ['http://app.example.test/cb'] }), 'body.redirectUris.0', /https/],
    ['a relative redirect URI', (m: string) => ({ name: m, redirectUris: ['/cb'] }), 'body.redirectUris.0', /absolute/],
    ['an empty name', (m: string) => ({ name: '', redirectUris: [`https://app.example.test/${m}`] }), 'body.name', /./],
    ['a blank name', (m: string) => ({ name: '   ', redirectUris: [`https://app.example.test/${m}`] }), 'body.name', /./],
    ['no redirect URI', (m: string) => ({ name: m, redirectUris: [] }), 'body.redirectUris', /./],
    ['a non-boolean public', (m: string) => ({ name: m, redirectUris: [redirectUri], public: 'yes' }), 'body.public', /./],
    ['a bad back-channel logout URI', (m: string) => ({ name: m, redirectUris: [redirectUri], backchannelLogoutUri: 'http://rp.example.test/bcl' }), 'body.backchannelLogoutUri', /https/],
  ])('%s', async (_name, body, field, message) => {
    const m = marker();
    const res = await platform('POST', '/api/v1/platform/clients', body(m));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'request.invalid' });
    expect(res.body.errors).toEqual(expect.arrayContaining([{ field, message: expect.stringMatching(message) }]));
    expect(await clientsMarked(m)).toBe(0);
  });

  test('a body that is not JSON is a 415 problem', async () => {
    const m = marker();
    const res = await platform('POST', '/api/v1/platform/clients', `name=${m}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(await clientsMarked(m)).toBe(0);
  });
});

describe('credentials', () => {
  test('no credential: 401 on every platform route', async () => {
    const anonymous = client(t.url);
    for (const [method, path] of platformPaths()) {
      const res = await anonymous(method, path, method === 'POST' ? { name: 'x', redirectUris: [redirectUri] } : undefined);
      expect({ method, path, status: res.status, code: res.body.code }).toEqual({ method, path, status: 401, code: 'auth.unauthenticated' });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  test('an org API key on the platform routes: 403 and nothing created', async () => {
    const m = `org-${randomUUID().slice(0, 8)}`;
    for (const [method, path] of platformPaths()) {
      const res = await org.owner.api(method, path, method === 'POST' ? { name: m, redirectUris: [redirectUri] } : undefined);
      expect({ method, path, status: res.status, code: res.body.code }).toEqual({ method, path, status: 403, code: 'auth.platform_key_required' });
    }
    expect(await clientsMarked(m)).toBe(0);
  });

  test('a malformed ghp_ key: 401, the same answer as any bad credential', async () => {
    const valid = (await newPlatformKey()).key;
    const [, id, secret] = valid.split('_');
    const malformed = [
      'ghp_', 'ghp_x_y', `ghp_${id}_${secret!.slice(1)}`, `ghp_${id!.toUpperCase()}_${secret}`, `ghp_${id}_${secret}_`, `ghp__${id}_${secret}`,
      `gh_${id}_${secret}`, // a platform key's parts under the org prefix are no org key
      `ghp_${'0'.repeat(16)}_${secret}`, // well formed, unknown id
      `ghp_${id}_${'0'.repeat(48)}`, // known id, wrong secret
    ];
    for (const key of malformed) {
      const res = await client(t.url, key)('GET', '/api/v1/platform/clients');
      expect({ key, status: res.status, body: res.body }).toEqual({ key, status: 401, body: expect.objectContaining({ code: 'auth.unauthenticated', detail: 'A valid credential is required.' }) });
    }
  });

  test('a revoked platform key: 401 at once; revoking it again or an unknown key exits 1', async () => {
    const { id, key } = await newPlatformKey();
    const api = client(t.url, key);
    expect((await api('GET', '/api/v1/platform/clients')).status).toBe(200);
    expect(await cli({ action: 'revoke', id })).toEqual({ code: 0, out: `platform key ${id} revoked`, err: '' });
    const res = await api('GET', '/api/v1/platform/clients');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('auth.unauthenticated');
    expect((await cli({ action: 'revoke', id })).code).toBe(1);
    expect((await cli({ action: 'revoke', id: '0'.repeat(16) })).code).toBe(1);
  });

  test('a platform key records when it was last used, and stores only a hash of its secret', async () => {
    const { id, key } = await newPlatformKey();
    await client(t.url, key)('GET', '/api/v1/platform/clients');
    const rows = await t.db.asPlatform((em) => em.execute<Record<string, unknown>[]>('SELECT * FROM platform_api_keys WHERE id = ?', [id]));
    expect(rows[0]).toMatchObject({ id, name: 'ops', revoked_at: null, secret_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(rows[0]!.last_used_at).not.toBeNull();
    expect(JSON.stringify(rows[0])).not.toContain(key.split('_')[2]);
  });

  test('the request role cannot read or write platform keys at all', async () => {
    await expect(t.db.withoutOrg((em) => em.execute('SELECT id FROM platform_api_keys'))).rejects.toThrow(/permission denied/);
    await expect(t.db.inOrg(org.orgId, (em) => em.execute('SELECT id FROM platform_api_keys'))).rejects.toThrow(/permission denied/);
    await expect(t.db.withoutOrg((em) => em.execute(`INSERT INTO platform_api_keys (id, name, secret_hash) VALUES ('${'1'.repeat(16)}', 'x', 'x')`)))
      .rejects.toThrow(/permission denied/);
  });

  test('platform-keys with a bad name or id exits 2 and stores nothing', async () => {
    for (const args of [{ action: 'create', name: '  ', json: true }, { action: 'create', name: undefined, json: true }, { action: 'revoke', id: 'ghp_abc' }, { action: 'revoke', id: undefined }] as PlatformKeysArgs[]) {
      const res = await cli(args);
      expect({ args, code: res.code, out: res.out }).toEqual({ args, code: 2, out: '' });
      expect(res.err).toMatch(/^(name|id): /);
    }
  });
});

describe('zones: a platform key is never an org credential', () => {
  test('a platform key on every org route answers 404 (as a foreign credential), on principal routes 403, and changes nothing', async () => {
    const routes = apiRoutes(t.app.services).filter((s) => s.zone === 'org' || s.zone === 'principal');
    expect(routes.length).toBeGreaterThanOrEqual(20);
    const before = await snapshot(t, org.orgId);
    const answers: Record<string, number> = {};
    for (const spec of routes) {
      const path = `/api/v1${spec.path}`.replace(':orgId', org.orgId).replace(/:(\w+)/g, randomUUID());
      const res = await platform(spec.method.toUpperCase(), path, spec.body ? {} : undefined);
      answers[`${spec.method.toUpperCase()} ${spec.path}`] = res.status;
    }
    expect(answers).toEqual(Object.fromEntries(routes.map((s) => [`${s.method.toUpperCase()} ${s.path}`, s.zone === 'org' ? 404 : 403])));
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('fail closed: with a platform principal, org and principal routes never reach their handlers, even if a principal were also set', async () => {
    const reached: string[] = [];
    const routes = (['org', 'principal', 'platform'] as const).map((zone) => defineRoute({
      method: 'get', path: `/${zone}/:orgId`, zone, tag: 'test', summary: zone, responses: { 200: { description: 'ok', schema: null } },
      handler: async () => {
        reached.push(zone);
        return { status: 200 };
      },
    })) as RouteSpec[];
    const status = async (setState: (ctx: Context) => void, zone: string) => {
      const router = new Router();
      mountRoutes(router, routes, { db: {} as Database, authenticate: async (ctx: Context, next: Next) => { setState(ctx); await next(); } });
      const koa = new Koa();
      koa.use(async (ctx, next) => {
        try {
          await next();
        } catch (err) {
          ctx.status = (err as { status?: number }).status ?? 500;
        }
      });
      koa.use(router.routes());
      const server = koa.listen(0);
      try {
        const { port } = server.address() as { port: number };
        return (await fetch(`http://127.0.0.1:${port}/${zone}/${org.orgId}`)).status;
      } finally {
        server.close();
      }
    };
    const platformOnly = (ctx: Context) => { ctx.state.platformPrincipal = { keyId: platformKeyId }; };
    // a bug elsewhere setting both must not let either kind through
    const both = (ctx: Context) => {
      ctx.state.platformPrincipal = { keyId: platformKeyId };
      ctx.state.principal = { orgId: org.orgId, userId: org.owner.userId, role: 'owner', permissions: new Set(), credential: { type: 'api_key', id: 'x', expiresAt: null } };
    };
    expect(await status(platformOnly, 'org')).toBe(404);
    expect(await status(platformOnly, 'principal')).toBe(403);
    expect(await status(both, 'org')).toBe(404);
    expect(await status(both, 'principal')).toBe(403);
    expect(await status(both, 'platform')).toBe(403);
    expect(reached).toEqual([]);
    expect(await status(platformOnly, 'platform')).toBe(200);
    expect(reached).toEqual(['platform']);
  });
});

test('the command line: `gatehouse platform-keys create --name N --json` prints the id and the key once; a bad command prints the usage', async () => {
  // main() in this process (a spawned run boots a whole embedded database, slowly), on the app's
  // database when it is PostgreSQL, else on a throwaway embedded one.
  const saved = { ...process.env };
  Object.assign(process.env, { NODE_ENV: 'test', LOG_LEVEL: 'silent', GATEHOUSE_DATA_DIR: 'memory://', GATEHOUSE_SECRET_KEY: t.config.secretKey });
  if (t.config.databaseUrl) Object.assign(process.env, { DATABASE_URL: t.config.databaseUrl, DATABASE_MIGRATION_URL: t.config.migrationDatabaseUrl ?? t.config.databaseUrl });
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(await main(['platform-keys', 'create', '--name', 'ops', '--json'])).toBe(0);
    const created = JSON.parse(out.join(''));
    expect(created).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), key: expect.stringMatching(/^ghp_[0-9a-f]{16}_[0-9a-f]{48}$/) });
    expect(created.key.split('_')[1]).toBe(created.id);
    for (const args of [['platform-keys'], ['platform-keys', 'rotate'], ['platform-keys', 'create', '--id', created.id], ['platform-keys', 'revoke', '--id', created.id, '--json']]) {
      expect(await main(args)).toBe(2);
    }
    expect(error.mock.calls.flat().join('\n')).toContain('platform-keys create --name N');
  } finally {
    log.mockRestore();
    error.mockRestore();
    process.env = saved;
  }
});

function platformPaths(): [string, string][] {
  const id = `cl_${'0'.repeat(24)}`;
  return [['POST', '/api/v1/platform/clients'], ['GET', '/api/v1/platform/clients'], ['GET', `/api/v1/platform/clients/${id}`], ['DELETE', `/api/v1/platform/clients/${id}`]];
}
