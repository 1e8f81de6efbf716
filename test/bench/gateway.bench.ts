import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatehouseBin, freePort } from '../helpers/cli.ts';
import { provisionDatabase } from './bench-database.ts';
import { measureTarget } from './gateway-measure.ts';
import { benchDir, startServer, type Server } from './gateway-processes.ts';
import { assertAllOk, cpuPerRequest, figures, rowLine, TARGET_P99_EXTRA_MS, TARGET_RATIO, verdict, type Row } from './gateway-report.ts';
import { gatewayFixture, type GatewayFixture } from './gateway-setup.ts';
import { round } from './latency.ts';

// The gateway against a bare proxy (issue 6): one small upstream measured directly, behind a bare
// Node pass-through proxy with no auth, and behind `gatehouse gateway` with a JWT and with an org
// API key, on one process and with GATEWAY_WORKERS=2. Every server and the load generator run in
// their own processes; all share this machine's cores, so each line says where the CPU went.

const SECONDS = Number(process.env.BENCH_GATEWAY_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_GATEWAY_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_GATEWAY_CONNECTIONS ?? 16);
const PIPELINING = 1;
/** Set to a directory to write a V8 CPU profile of each gateway process there (--cpu-prof). */
const PROFILE_DIR = process.env.BENCH_GATEWAY_PROFILE_DIR;

function serverScript(label: string, script: string, args: string[], workDir: string): Promise<Server> {
  return freePort().then((port) => startServer(label, [join(benchDir, script), String(port), ...args], {}, `http://127.0.0.1:${port}/`, workDir));
}

async function startGateway(fixture: GatewayFixture, upstream: Server, workers: number, workDir: string): Promise<Server> {
  const port = await freePort();
  const env = fixture.gatewayEnv(upstream.url, port, workers);
  if (PROFILE_DIR) env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}`;
  const gateway = await startServer(`gateway x${workers}`, [gatehouseBin, 'gateway'], env, `http://127.0.0.1:${port}/`, workDir);
  await expectStatus(gateway, fixture, 'Bearer not-a-credential', 401);
  await expectStatus(gateway, fixture, `Bearer ${fixture.apiKey}`, 200);
  await expectStatus(gateway, fixture, `Bearer ${await fixture.accessToken()}`, 200);
  return gateway;
}

/** The gateway really authenticates (a bad credential is refused) and lets good ones through. */
async function expectStatus(gateway: Server, fixture: GatewayFixture, authorization: string, status: number): Promise<void> {
  const res = await fetch(`${gateway.url}orgs/${fixture.orgId}/agents`, { headers: { authorization } });
  const body = await res.text();
  if (res.status !== status) throw new Error(`${gateway.label}: expected ${status}, got ${res.status} ${body.slice(0, 300)} (log ${gateway.logPath})`);
}

export async function gatewayBench(): Promise<void> {
  const database = await provisionDatabase();
  if (!database.url) {
    // Gateway processes share the control plane's database; PGlite lives inside one process.
    console.log(`gateway bench skipped: it needs PostgreSQL (${database.description})`);
    console.log(JSON.stringify({ bench: 'gateway', skipped: 'no PostgreSQL' }));
    return;
  }
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-gateway-bench-'));
  const servers: Server[] = [];
  let fixture: GatewayFixture | undefined;
  const rows: Row[] = [];
  const load = { connections: CONNECTIONS, pipelining: PIPELINING, warmupSeconds: WARMUP, durationSeconds: SECONDS };
  async function run(key: string, label: string, server: Server, authorization: string | null, watched: Server[]): Promise<Row> {
    const path = fixture ? `orgs/${fixture.orgId}/agents` : 'orgs/bench/agents';
    const m = await measureTarget({ ...load, url: `${server.url}${path}`, headers: authorization ? { authorization } : {} },
      new Map(watched.map((s) => [s.label, s.pid])));
    const row = { key, label, server: server.label, m };
    assertAllOk(row, server.logPath);
    rows.push(row);
    return row;
  }
  try {
    const upstream = await serverScript('upstream', 'gateway-upstream.ts', [], workDir);
    servers.push(upstream);
    const proxy = await serverScript('bare proxy', 'gateway-bare-proxy.ts', [upstream.url], workDir);
    servers.push(proxy);
    fixture = await gatewayFixture(database.url, workDir);
    const apiKey = `Bearer ${fixture.apiKey}`;

    const a = await run('a', 'upstream directly', upstream, null, [upstream]);
    const b1 = await run('b', 'bare Node proxy, no auth', proxy, null, [upstream, proxy]);
    const one = await startGateway(fixture, upstream, 1, workDir);
    servers.push(one);
    const c = await run('c', 'Gatehouse x1, JWT access token', one, `Bearer ${await fixture.accessToken()}`, [upstream, one]);
    const d = await run('d', 'Gatehouse x1, org API key', one, apiKey, [upstream, one]);
    await one.stop();
    // The baseline again, between the two gateway set-ups: the machine's noise hits both sides.
    const b2 = await run('b', 'bare Node proxy, no auth (again)', proxy, null, [upstream, proxy]);
    const two = await startGateway(fixture, upstream, 2, workDir);
    servers.push(two);
    const e1 = await run('e', 'Gatehouse x2 workers, JWT', two, `Bearer ${await fixture.accessToken()}`, [upstream, two]);
    const e2 = await run('e', 'Gatehouse x2 workers, org API key', two, apiKey, [upstream, two]);

    const bare = { perSecond: (b1.m.perSecond + b2.m.perSecond) / 2, p99: (b1.m.p99 + b2.m.p99) / 2 };
    report(rows, bare, { a, c, d, e1, e2 });
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await fixture?.close();
    await database.drop();
    if (!PROFILE_DIR) rmSync(workDir, { recursive: true, force: true });
  }
}

function report(rows: Row[], bare: { perSecond: number; p99: number }, r: Record<'a' | 'c' | 'd' | 'e1' | 'e2', Row>): void {
  const m = { c: r.c.m, d: r.d.m, e1: r.e1.m, e2: r.e2.m };
  console.log(`gateway bench: GET /orgs/:orgId/agents (small JSON), autocannon ${CONNECTIONS} connections, pipelining ${PIPELINING}, ${SECONDS} s measured after ${WARMUP} s warm-up per target`);
  console.log('  every server and the load generator are separate processes sharing this machine\'s cores; a one-process proxy or gateway near 100% CPU is the bottleneck');
  const bareRows = rows.filter((row) => row.key === 'b');
  const bareCpu = bareRows.reduce((sum, row) => sum + cpuPerRequest(row.m, row.server), 0) / bareRows.length;
  for (const row of rows) console.log(rowLine(row, row.key === 'c' || row.key === 'd' || row.key === 'e' ? bare : undefined));
  const jwt = verdict(m.c, bare);
  const key = verdict(m.d, bare);
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(`  baseline: bare proxy mean of its two runs, ${bare.perSecond.toFixed(0)} req/s, p99 ${bare.p99.toFixed(2)} ms; CPU per request, gateway x1 / bare proxy: JWT ${(cpuPerRequest(m.c, r.c.server) / bareCpu).toFixed(2)}, API key ${(cpuPerRequest(m.d, r.d.server) / bareCpu).toFixed(2)}`);
  console.log(`  target, one process: >= ${TARGET_RATIO} of the bare proxy: JWT ${jwt.ratio.toFixed(2)} ${met(jwt.ratioMet)}, API key ${key.ratio.toFixed(2)} ${met(key.ratioMet)}; p99 <= +${TARGET_P99_EXTRA_MS} ms: JWT ${met(jwt.p99Met)}, API key ${met(key.p99Met)}`);
  const scaled = m.e1.perSecond > m.c.perSecond && m.e2.perSecond > m.d.perSecond;
  console.log(`  target, GATEWAY_WORKERS=2 above one process: JWT x${(m.e1.perSecond / m.c.perSecond).toFixed(2)}, API key x${(m.e2.perSecond / m.d.perSecond).toFixed(2)} ${met(scaled)} (the load generator and the upstream use the same 2 cores)`);
  console.log(JSON.stringify({
    bench: 'gateway', connections: CONNECTIONS, pipelining: PIPELINING, seconds: SECONDS,
    upstream: figures(r.a), bare: { perSecond: round(bare.perSecond, 1), p99: round(bare.p99), cpuUsPerRequest: round(bareCpu, 1) },
    jwt: { ...figures(r.c), ratio: round(jwt.ratio), p99ExtraMs: round(jwt.p99ExtraMs), cpuRatio: round(cpuPerRequest(m.c, r.c.server) / bareCpu) },
    apiKey: { ...figures(r.d), ratio: round(key.ratio), p99ExtraMs: round(key.p99ExtraMs), cpuRatio: round(cpuPerRequest(m.d, r.d.server) / bareCpu) },
    workers2: { jwt: { ...figures(r.e1), ratio: round(m.e1.perSecond / bare.perSecond) }, apiKey: { ...figures(r.e2), ratio: round(m.e2.perSecond / bare.perSecond) } },
    target: { ratio: TARGET_RATIO, p99ExtraMs: TARGET_P99_EXTRA_MS, ratioMet: jwt.ratioMet && key.ratioMet, p99Met: jwt.p99Met && key.p99Met, workersScale: scaled },
  }));
}
