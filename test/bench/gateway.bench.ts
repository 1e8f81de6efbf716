import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatehouseBin, freePort } from '../helpers/cli.ts';
import { provisionDatabase } from './bench-database.ts';
import type { LoadTarget } from './gateway-load.ts';
import { measureTargets } from './gateway-measure.ts';
import { benchDir, startServer, type Server } from './gateway-processes.ts';
import { assertAllOk, report, type Row } from './gateway-report.ts';
import { gatewayFixture, type GatewayFixture } from './gateway-setup.ts';

// The gateway against a bare proxy (issue 6): one small upstream measured directly, behind a bare
// Node pass-through proxy with no auth, and behind `gatehouse gateway` with a JWT and with an org
// API key, on one process and with GATEWAY_WORKERS=2. Every server and the load generator run in
// their own processes; all share this machine's cores, so each line says where the CPU went.

const SECONDS = Number(process.env.BENCH_GATEWAY_SECONDS ?? 10);
const SLICE = 2;
const WARMUP = Number(process.env.BENCH_GATEWAY_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_GATEWAY_CONNECTIONS ?? 16);
const PIPELINING = 1;
/** Set to a directory to get V8 CPU profiles of the bare proxy and the gateways in subdirectories. */
const PROFILE_DIR = process.env.BENCH_GATEWAY_PROFILE_DIR;

function profiled(label: string): Record<string, string> {
  return PROFILE_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(PROFILE_DIR, label.replace(/\W+/g, '-'))}` } : {};
}

async function serverScript(label: string, script: string, args: string[], workDir: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  return startServer(label, [join(benchDir, script), String(port), ...args], env, `http://127.0.0.1:${port}/`, workDir);
}

async function startGateway(fixture: GatewayFixture, upstream: Server, workers: number, workDir: string): Promise<Server> {
  const port = await freePort();
  const label = `gateway x${workers}`;
  const env = { ...fixture.gatewayEnv(upstream.url, port, workers), ...profiled(label) };
  const gateway = await startServer(label, [gatehouseBin, 'gateway'], env, `http://127.0.0.1:${port}/`, workDir);
  // Measured only once the gateway is seen to refuse a bad credential and to take good ones.
  await expectStatus(gateway, fixture, 'Bearer not-a-credential', 401);
  await expectStatus(gateway, fixture, `Bearer ${fixture.apiKey}`, 200);
  await expectStatus(gateway, fixture, `Bearer ${await fixture.accessToken()}`, 200);
  return gateway;
}

async function expectStatus(gateway: Server, fixture: GatewayFixture, authorization: string, status: number): Promise<void> {
  const res = await fetch(`${gateway.url}orgs/${fixture.orgId}/agents`, { headers: { authorization } });
  const body = await res.text();
  if (res.status !== status) throw new Error(`${gateway.label}: expected ${status}, got ${res.status} ${body.slice(0, 300)} (log ${gateway.logPath})`);
}

interface Plan {
  key: string;
  label: string;
  server: Server;
  authorization: string | null;
}

async function measure(plans: Plan[], upstream: Server, fixture: GatewayFixture): Promise<Row[]> {
  const targets: LoadTarget[] = plans.map((p) => ({
    name: p.label, url: `${p.server.url}orgs/${fixture.orgId}/agents`, headers: p.authorization ? { authorization: p.authorization } : ({} as Record<string, string>),
  }));
  const watched = new Map(plans.map((p) => [p.label, new Map([[upstream.label, upstream.pid], [p.server.label, p.server.pid]])]));
  const results = await measureTargets(
    { targets, connections: CONNECTIONS, pipelining: PIPELINING, warmupSeconds: WARMUP, sliceSeconds: SLICE, rounds: Math.max(1, Math.round(SECONDS / SLICE)) },
    watched,
  );
  return plans.map((p) => {
    const row = { key: p.key, label: p.label, server: p.server.label, m: results.get(p.label)! };
    // A gateway answering 401s fast is no result.
    assertAllOk(row, p.server.logPath);
    return row;
  });
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
  let finished = false;
  const started = async (server: Promise<Server>) => {
    servers.push(await server);
    return servers.at(-1)!;
  };
  try {
    const upstream = await started(serverScript('upstream', 'gateway-upstream.ts', [], workDir));
    const proxy = await started(serverScript('bare proxy', 'gateway-bare-proxy.ts', [upstream.url], workDir, profiled('bare proxy')));
    fixture = await gatewayFixture(database.url, workDir);
    const one = await started(startGateway(fixture, upstream, 1, workDir));
    const two = await started(startGateway(fixture, upstream, 2, workDir));
    // Fetched last: an access token lives 10 minutes, longer than the whole run.
    const jwt = `Bearer ${await fixture.accessToken()}`;
    const apiKey = `Bearer ${fixture.apiKey}`;
    const rows = await measure([
      { key: 'a', label: 'upstream directly', server: upstream, authorization: null },
      { key: 'b', label: 'bare Node proxy, no auth', server: proxy, authorization: null },
      { key: 'c', label: 'Gatehouse x1, JWT access token', server: one, authorization: jwt },
      { key: 'd', label: 'Gatehouse x1, org API key', server: one, authorization: apiKey },
      { key: 'e', label: 'Gatehouse x2 workers, JWT', server: two, authorization: jwt },
      { key: 'e', label: 'Gatehouse x2 workers, org API key', server: two, authorization: apiKey },
    ], upstream, fixture);
    finished = true;
    report(rows, { database: database.description, connections: CONNECTIONS, pipelining: PIPELINING, seconds: SECONDS, slice: SLICE, warmup: WARMUP });
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await fixture?.close();
    await database.drop();
    // Kept after a failure: the error names a server's log in it.
    if (finished) rmSync(workDir, { recursive: true, force: true });
  }
}
