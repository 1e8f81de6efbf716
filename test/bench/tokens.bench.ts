import { performance } from 'node:perf_hooks';
import type { Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/cli.ts';
import { createOrg } from '../helpers/factories.ts';
import { provisionDatabase } from './bench-database.ts';
import { ms, round, summarize } from './latency.ts';

// Token issuance: client_credentials JWT access tokens per second through Gatehouse (clients
// and org claims read from PostgreSQL per request) against a bare oidc-provider with the memory
// adapter, a static client and the same key type (ES256), both under the same load in one run.

const CONCURRENCY = 16;
const REQUESTS = 1200;
const WARMUP = 200;
const TARGET_RATIO = 0.8;
const TARGET_P99_MS = 10;

interface Target {
  label: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  resource: string;
}

/** REQUESTS token requests from CONCURRENCY loops; throughput and per-request latency. */
async function load(target: Target, requests: number) {
  const auth = `Basic ${Buffer.from(`${encodeURIComponent(target.clientId)}:${encodeURIComponent(target.clientSecret)}`).toString('base64')}`;
  const body = new URLSearchParams({ grant_type: 'client_credentials', resource: target.resource }).toString();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < requests) {
      next++;
      const t0 = performance.now();
      const res = await fetch(target.tokenUrl, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body });
      const json = (await res.json()) as { access_token?: string };
      latencies.push(performance.now() - t0);
      if (res.status !== 200 || !json.access_token) throw new Error(`${target.label}: ${res.status} ${JSON.stringify(json)}`);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: requests / seconds, latency: summarize(latencies) };
}

async function bareProvider(): Promise<{ target: Target; close(): Promise<void> }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const resource = `${issuer}/api`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'bench', client_secret: 'bench-secret-bench-secret-bench-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], id_token_signed_response_alg: 'ES256' }],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig' }] } as never,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: 'api', audience: resource, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
      },
    },
  });
  const server: Server = provider.listen(port, '127.0.0.1');
  return {
    target: { label: 'bare oidc-provider', tokenUrl: `${issuer}/token`, clientId: 'bench', clientSecret: 'bench-secret-bench-secret-bench-secret', resource },
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

export async function tokensBench(): Promise<void> {
  const database = await provisionDatabase();
  let t: TestApp | undefined;
  let bare: Awaited<ReturnType<typeof bareProvider>> | undefined;
  try {
    t = await startAppAtPublicUrl({ DATABASE_URL: database.url ?? '' });
    const org = await createOrg(t);
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'bench', role: 'member' });
    if (sa.status !== 201) throw new Error(`service account: ${sa.status} ${sa.text}`);
    const gatehouse: Target = { label: 'Gatehouse', tokenUrl: `${t.url}/oidc/token`, clientId: sa.body.clientId, clientSecret: sa.body.clientSecret, resource: `${t.url}/api/v1` };
    bare = await bareProvider();

    await load(gatehouse, WARMUP);
    await load(bare.target, WARMUP);
    // Alternate halves so both sides see the same machine noise.
    const g1 = await load(gatehouse, REQUESTS / 2);
    const b1 = await load(bare.target, REQUESTS / 2);
    const g2 = await load(gatehouse, REQUESTS / 2);
    const b2 = await load(bare.target, REQUESTS / 2);
    const g = { perSecond: (g1.perSecond + g2.perSecond) / 2, p99: Math.max(g1.latency.p99, g2.latency.p99), p50: (g1.latency.p50 + g2.latency.p50) / 2 };
    const b = { perSecond: (b1.perSecond + b2.perSecond) / 2, p99: Math.max(b1.latency.p99, b2.latency.p99), p50: (b1.latency.p50 + b2.latency.p50) / 2 };
    const ratio = g.perSecond / b.perSecond;
    console.log(`tokens bench on ${database.description}: client_credentials, ES256 JWT access tokens, ${CONCURRENCY} concurrent, ${REQUESTS} requests per side after ${WARMUP} warm-up`);
    console.log(`  Gatehouse            ${g.perSecond.toFixed(0)} tokens/s   p50 ${ms(g.p50)}   p99 ${ms(g.p99)}`);
    console.log(`  bare oidc-provider   ${b.perSecond.toFixed(0)} tokens/s   p50 ${ms(b.p50)}   p99 ${ms(b.p99)}`);
    console.log(`  ratio Gatehouse/bare ${ratio.toFixed(2)}   target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}; p99 < ${TARGET_P99_MS} ms: ${g.p99 < TARGET_P99_MS ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify({
      bench: 'tokens', database: database.kind, concurrency: CONCURRENCY, requests: REQUESTS,
      gatehouse: { perSecond: round(g.perSecond, 1), p50: round(g.p50), p99: round(g.p99) },
      bare: { perSecond: round(b.perSecond, 1), p50: round(b.p50), p99: round(b.p99) },
      ratio: round(ratio), target: { ratio: TARGET_RATIO, ratioMet: ratio >= TARGET_RATIO, p99Ms: TARGET_P99_MS, p99Met: g.p99 < TARGET_P99_MS },
    }));
  } finally {
    await bare?.close();
    await t?.close();
    await database.drop();
  }
}
