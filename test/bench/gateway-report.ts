import { round } from './latency.ts';
import type { Measurement } from './gateway-measure.ts';

// The gateway bench's printed lines and its JSON line.

export const TARGET_RATIO = 0.8;
export const TARGET_P99_EXTRA_MS = 1;

export interface Row {
  key: string;
  label: string;
  /** The process tree that serves this target (its CPU per request is printed). */
  server: string;
  m: Measurement;
}

export interface Verdict {
  ratio: number;
  p99ExtraMs: number;
  ratioMet: boolean;
  p99Met: boolean;
}

export function verdict(m: Measurement, bare: { perSecond: number; p99: number }): Verdict {
  const ratio = m.perSecond / bare.perSecond;
  const p99ExtraMs = m.p99 - bare.p99;
  return { ratio, p99ExtraMs, ratioMet: ratio >= TARGET_RATIO, p99Met: p99ExtraMs <= TARGET_P99_EXTRA_MS };
}

function cpuText(cpu: Record<string, number>): string {
  return Object.entries(cpu).map(([label, pct]) => `${label} ${pct.toFixed(0)}%`).join(', ');
}

/**
 * CPU time one process tree spent per answered request (µs): steadier than requests/s on a
 * shared machine, since a starved process serves fewer requests but spends as much on each.
 */
export function cpuPerRequest(m: Measurement, label: string): number {
  return ((m.cpu[label] ?? 0) / 100) * m.seconds / m.ok * 1e6;
}

export function rowLine(row: Row, bare?: { perSecond: number; p99: number }): string {
  const { m } = row;
  const figures = `${m.perSecond.toFixed(0).padStart(6)} req/s   p50 ${m.p50.toFixed(2)} ms   p99 ${m.p99.toFixed(2).padStart(5)} ms   errors ${m.errors + m.timeouts}, non-2xx ${m.non2xx}`;
  const vs = bare ? (() => {
    const v = verdict(m, bare);
    return `   ratio ${v.ratio.toFixed(2)}, p99 ${v.p99ExtraMs >= 0 ? '+' : ''}${v.p99ExtraMs.toFixed(2)} ms`;
  })() : '';
  return `  ${row.key} ${row.label.padEnd(34)} ${figures}${vs}\n      CPU (% of one core): ${cpuText(m.cpu)}; ${row.server} ${cpuPerRequest(m, row.server).toFixed(0)} µs CPU per request`;
}

export function figures({ m, server }: Row) {
  return { perSecond: round(m.perSecond, 1), p50: round(m.p50), p99: round(m.p99), errors: m.errors + m.timeouts, non2xx: m.non2xx, cpu: m.cpu, cpuUsPerRequest: round(cpuPerRequest(m, server), 1) };
}

/** Anything but 2xx makes the figures meaningless (a gateway answering 401s fast is no result). */
export function assertAllOk(row: Row, logPath?: string): void {
  const { m } = row;
  if (m.ok > 0 && m.errors === 0 && m.timeouts === 0 && m.non2xx === 0) return;
  throw new Error(`${row.label}: ${m.ok} 2xx, ${m.errors} errors, ${m.timeouts} timeouts, ${m.non2xx} non-2xx (statuses ${JSON.stringify(m.statusCodes)})${logPath ? `; server log ${logPath}` : ''}`);
}
