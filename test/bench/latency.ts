export interface Latency {
  p50: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentiles and the mean of a set of durations in milliseconds. */
export function summarize(samples: number[]): Latency {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: rank(0.5), p99: rank(0.99), mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length };
}

export function ms(value: number): string {
  return `${value.toFixed(2)} ms`;
}

export function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
