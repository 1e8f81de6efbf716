import { createRequire } from 'node:module';

// The gateway bench's load generator, in its own process so its CPU is not the servers':
// `node gateway-load.ts '<json LoadOptions>'`. autocannon drives the connections; its own
// latency histogram has whole-millisecond resolution, too coarse for a "p99 within 1 ms" target,
// so each response's time is also binned here at 10 µs. Prints `{"phase":"measure"}` when the
// measured run starts (after the warm-up) and one JSON line with the result at the end.

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  pipelining: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export interface LoadResult {
  phase: 'done';
  seconds: number;
  ok: number;
  perSecond: number;
  p50: number;
  p99: number;
  mean: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): this;
}
type Autocannon = (opts: Record<string, unknown>) => AutocannonInstance;

// autocannon ships CommonJS without types.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const BUCKET_MS = 0.01;
const BUCKETS = 1_000_000; // 10 s in 10 µs bins; slower responses land in the last one

function percentile(bins: Uint32Array, count: number, p: number): number {
  const rank = Math.max(1, Math.ceil(p * count));
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i]!;
    if (seen >= rank) return (i + 1) * BUCKET_MS;
  }
  return BUCKETS * BUCKET_MS;
}

async function measure(options: LoadOptions): Promise<LoadResult> {
  const bins = new Uint32Array(BUCKETS);
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let total = 0;
  const run = autocannon({
    url: options.url, headers: options.headers, connections: options.connections,
    pipelining: options.pipelining, duration: options.durationSeconds,
  });
  run.on('response', (_client, status, _bytes, ms) => {
    statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    if (status < 200 || status > 299) return;
    ok++;
    total += ms;
    bins[Math.min(BUCKETS - 1, Math.floor(ms / BUCKET_MS))]!++;
  });
  const result = await run;
  return {
    phase: 'done', seconds: result.duration, ok, perSecond: ok / result.duration,
    p50: ok ? percentile(bins, ok, 0.5) : NaN, p99: ok ? percentile(bins, ok, 0.99) : NaN, mean: ok ? total / ok : NaN,
    errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, statusCodes,
  };
}

const options = JSON.parse(process.argv[2]!) as LoadOptions;
if (options.warmupSeconds > 0) await measure({ ...options, durationSeconds: options.warmupSeconds });
console.log(JSON.stringify({ phase: 'measure' }));
console.log(JSON.stringify(await measure(options)));
