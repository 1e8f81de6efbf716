import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { serviceProvider } from '../../saml/service-provider.ts';
import type { SsoDeps } from '../../src/federation/sso-edge.ts';
import { SsoRequestsRepository } from '../../src/federation/sso-requests.repository.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { personAt, samlSetup, type SamlSetup } from '../helpers/saml-flow.ts';
import { samlResponse } from '../helpers/saml-idp-response.ts';
import { provisionDatabase } from './bench-database.ts';
import { ms, round, summarize } from './latency.ts';

// SAML logins per second through the ACS: each iteration a fresh AuthnRequest (an sso_requests
// row, made beforehand) answered by a fresh response with a new assertion ID, signed at the
// assertion (RSA-SHA256, as Entra signs), POSTed to the real app: node-saml's verification, our
// checks, the replay cache and the request hand-off in PostgreSQL, up to the 303 into the hosted
// sign-in. The baseline is node-saml's validatePostResponseAsync alone on the same responses,
// in process, with the same options (the cost of the signature verification and parsing).

const CONCURRENCY = 8;
const LOGINS = 400;
const WARMUP = 50;

interface Rate { perSecond: number; p50: number; p99: number }

async function run(items: string[], once: (samlResponse: string) => Promise<void>): Promise<Rate> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const t0 = performance.now();
      await once(item);
      latencies.push(performance.now() - t0);
    }
  }));
  const l = summarize(latencies);
  return { perSecond: items.length / ((performance.now() - started) / 1000), p50: l.p50, p99: l.p99 };
}

/** `n` fresh AuthnRequests of the connection (as samlEdge.start records them) and their signed answers. */
async function prepare(t: TestApp, setup: SamlSetup, n: number): Promise<string[]> {
  const requests = new SsoRequestsRepository(t.db);
  const responses: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `_${randomBytes(20).toString('hex')}`;
    await requests.create({ id, provider: 'saml', connectionId: setup.connection.id, interactionUid: `bench-${i}`, ttlSeconds: 3600 });
    responses.push(samlResponse(setup.idp, setup.sp, { email: personAt(setup), groups: ['Everyone', 'Engineering'] }, { inResponseTo: id, sign: { response: false, assertion: true } }).base64);
  }
  return responses;
}

function acs(setup: SamlSetup) {
  return async (samlResponse: string) => {
    const res = await fetch(setup.sp.acsUrl, {
      method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ SAMLResponse: samlResponse }).toString(),
    });
    const text = await res.text();
    if (res.status !== 303 || !res.headers.get('location')?.includes('/sso/done/')) throw new Error(`ACS: ${res.status} ${text.slice(0, 300)}`);
  };
}

function nodeSamlAlone(t: TestApp, setup: SamlSetup) {
  const deps = { config: t.config, secrets: t.app.services.secrets } as SsoDeps;
  return async (samlResponse: string) => {
    const { profile } = await serviceProvider(deps, setup.connection).validatePostResponseAsync({ SAMLResponse: samlResponse });
    if (!profile?.nameID) throw new Error('node-saml returned no profile');
  };
}

export async function samlBench(): Promise<void> {
  const database = await provisionDatabase();
  let t: TestApp | undefined;
  try {
    t = await startAppAtPublicUrl({ DATABASE_URL: database.url ?? '' });
    const setup = await samlSetup(t, {}, { preset: 'okta' });
    const [warm, first, second] = [await prepare(t, setup, WARMUP), await prepare(t, setup, LOGINS / 2), await prepare(t, setup, LOGINS / 2)];
    const viaAcs = acs(setup);
    const alone = nodeSamlAlone(t, setup);

    await run(warm, alone);
    await run(warm, viaAcs);
    // Alternate halves so both sides see the same machine noise; the baseline verifies the same
    // responses the ACS then accepts (node-saml keeps no state with validateInResponseTo never).
    const b1 = await run(first, alone);
    const a1 = await run(first, viaAcs);
    const b2 = await run(second, alone);
    const a2 = await run(second, viaAcs);
    const mean = (x: Rate, y: Rate): Rate => ({ perSecond: (x.perSecond + y.perSecond) / 2, p50: (x.p50 + y.p50) / 2, p99: Math.max(x.p99, y.p99) });
    const a = mean(a1, a2);
    const b = mean(b1, b2);
    const ratio = a.perSecond / b.perSecond;
    console.log(`saml bench on ${database.description}: assertion signed RSA-SHA256 (2048-bit), ${CONCURRENCY} concurrent, ${LOGINS} logins per side after ${WARMUP} warm-up`);
    console.log(`  ACS (all checks, replay cache, request hand-off)   ${a.perSecond.toFixed(0)} logins/s   p50 ${ms(a.p50)}   p99 ${ms(a.p99)}`);
    console.log(`  baseline: node-saml validatePostResponseAsync      ${b.perSecond.toFixed(0)} responses/s   p50 ${ms(b.p50)}   p99 ${ms(b.p99)}`);
    console.log(`  ratio ACS/baseline ${ratio.toFixed(2)} (JIT provisioning and the ID token happen after the ACS, at the hosted sign-in, and are not in it)`);
    console.log(JSON.stringify({
      bench: 'saml', database: database.kind, concurrency: CONCURRENCY, logins: LOGINS,
      acs: { perSecond: round(a.perSecond, 1), p50: round(a.p50), p99: round(a.p99) },
      baseline: { what: 'node-saml validatePostResponseAsync', perSecond: round(b.perSecond, 1), p50: round(b.p50), p99: round(b.p99) },
      ratio: round(ratio),
    }));
  } finally {
    await t?.close();
    await database.drop();
  }
}
