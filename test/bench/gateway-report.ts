import { round } from './latency.ts';
import type { Measurement } from './gateway-measure.ts';

// The gateway bench's printed lines and its JSON line.

export const TARGET_RATIO = 0.8;
export const TARGET_P99_EXTRA_MS = 1;
/** % of a core taken by other work above which a run is flagged as noisy. */
const BUSY_ELSEWHERE = 25;

export interface Row {
  key: string;
  label: string;
  /** The process tree that serves this target (its CPU per request is printed). */
  server: string;
  m: Measurement;
}

interface Meta {
  database: string;
  connections: number;
  pipelining: number;
  seconds: number;
  slice: number;
  warmup: number;
}

/** Anything but 2xx makes the figures meaningless. */
export function assertAllOk(row: Row, logPath?: string): void {
  const { m } = row;
  if (m.ok > 0 && m.errors === 0 && m.timeouts === 0 && m.non2xx === 0) return;
  throw new Error(`${row.label}: ${m.ok} 2xx, ${m.errors} errors, ${m.timeouts} timeouts, ${m.non2xx} non-2xx (statuses ${JSON.stringify(m.statusCodes)})${logPath ? `; server log ${logPath}` : ''}`);
}

/**
 * CPU time the serving process tree spent per answered request (µs): steadier than requests/s
 * on a shared machine, since a starved process serves fewer requests but spends as much on each.
 */
function cpuPerRequest({ m, server }: Row): number {
  return ((m.cpu[server] ?? 0) / 100) * m.seconds / m.ok * 1e6;
}

function versus(row: Row, bare: Row) {
  const ratio = row.m.perSecond / bare.m.perSecond;
  const p99ExtraMs = row.m.p99 - bare.m.p99;
  return {
    ratio, p99ExtraMs, cpuRatio: cpuPerRequest(row) / cpuPerRequest(bare),
    ratioMet: ratio >= TARGET_RATIO, p99Met: p99ExtraMs <= TARGET_P99_EXTRA_MS,
  };
}

function line(row: Row, bare: Row | null): string {
  const { m } = row;
  const cpu = Object.entries(m.cpu).map(([label, pct]) => `${label} ${pct.toFixed(0)}%`).join(', ');
  let text = `  ${row.key} ${row.label.padEnd(34)} ${m.perSecond.toFixed(0).padStart(6)} req/s   p50 ${m.p50.toFixed(2)} ms   p99 ${m.p99.toFixed(2).padStart(5)} ms`
    + `   errors ${m.errors + m.timeouts}, non-2xx ${m.non2xx}`;
  if (bare) {
    const v = versus(row, bare);
    text += `   vs bare: x${v.ratio.toFixed(2)}, p99 ${v.p99ExtraMs >= 0 ? '+' : ''}${v.p99ExtraMs.toFixed(2)} ms`;
  }
  return `${text}\n      CPU, % of one core: ${cpu}; ${row.server} ${cpuPerRequest(row).toFixed(0)} µs CPU per request`;
}

function figures(row: Row, bare: Row | null) {
  const { m } = row;
  const base = { perSecond: round(m.perSecond, 1), p50: round(m.p50), p99: round(m.p99), errors: m.errors + m.timeouts, non2xx: m.non2xx, cpu: m.cpu, cpuUsPerRequest: round(cpuPerRequest(row), 1) };
  if (!bare) return base;
  const v = versus(row, bare);
  return { ...base, ratio: round(v.ratio), p99ExtraMs: round(v.p99ExtraMs), cpuRatio: round(v.cpuRatio) };
}

/** rows: a upstream, b bare proxy, c JWT x1, d API key x1, then the two x2 rows. */
export function report(rows: Row[], meta: Meta): void {
  const [a, b, c, d, e1, e2] = rows as [Row, Row, Row, Row, Row, Row];
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  console.log(`gateway bench on ${meta.database}: GET /orgs/:orgId/agents (small JSON); autocannon, ${meta.connections} connections, pipelining ${meta.pipelining}; `
    + `${meta.seconds} s measured per target after ${meta.warmup} s warm-up, in ${meta.slice} s slices taken in turn`);
  console.log('  each server and the load generator is its own process; all share this machine\'s cores: a one-process proxy or gateway near 100% is the bottleneck, and "everything else" is CPU that other work took meanwhile');
  for (const row of rows) console.log(line(row, row.key === 'a' || row.key === 'b' ? null : b));
  const busiest = Math.max(...rows.map((row) => row.m.cpu['everything else'] ?? 0));
  if (busiest > BUSY_ELSEWHERE) console.log(`  NOTE: other work took up to ${busiest.toFixed(0)}% of a core during this run; the ratios below are noisier than usual`);
  const jwt = versus(c, b);
  const key = versus(d, b);
  console.log(`  target, one process, >= ${TARGET_RATIO} of the bare proxy's requests/s: JWT x${jwt.ratio.toFixed(2)} ${met(jwt.ratioMet)}, API key x${key.ratio.toFixed(2)} ${met(key.ratioMet)}`);
  console.log(`  target, one process, p99 <= +${TARGET_P99_EXTRA_MS} ms over the bare proxy: JWT ${met(jwt.p99Met)}, API key ${met(key.p99Met)}`);
  console.log(`  CPU per request over the bare proxy's: JWT x${jwt.cpuRatio.toFixed(2)}, API key x${key.cpuRatio.toFixed(2)}`);
  const scaled = e1.m.perSecond > c.m.perSecond && e2.m.perSecond > d.m.perSecond;
  console.log(`  target, GATEWAY_WORKERS=2 above one process: JWT x${(e1.m.perSecond / c.m.perSecond).toFixed(2)}, API key x${(e2.m.perSecond / d.m.perSecond).toFixed(2)} ${met(scaled)} `
    + '(on 2 cores the workers compete with the load generator and the upstream)');
  console.log(JSON.stringify({
    bench: 'gateway', connections: meta.connections, pipelining: meta.pipelining, seconds: meta.seconds, busyElsewhere: busiest,
    upstream: figures(a, null), bare: figures(b, null), jwt: figures(c, b), apiKey: figures(d, b),
    workers2: { jwt: figures(e1, b), apiKey: figures(e2, b) },
    target: { ratio: TARGET_RATIO, p99ExtraMs: TARGET_P99_EXTRA_MS, ratioMet: jwt.ratioMet && key.ratioMet, p99Met: jwt.p99Met && key.p99Met, workersScale: scaled },
  }));
}
