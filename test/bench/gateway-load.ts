import { createRequire } from 'node:module';

// The gateway bench's load generator, in its own process so its CPU is not the servers':
// `node gateway-load.ts '<json LoadPlan>'`. Each target is warmed up, then measured in slices
// taken in turn (a b c, a b c, ...): on a shared, noisy machine a burst of someone else's work
// then hits every target alike instead of one. autocannon drives the connections; its own
// latency histogram has whole-millisecond resolution, too coarse for a "p99 within 1 ms" target,
// so each response's time is binned here at 10 µs. Prints `{"phase":"slice","target":..,"state":
// "start"|"end"}` around each measured slice and, last, `{"phase":"done","results":{..}}`.

export interface LoadTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
}

export interface LoadPlan {
  targets: LoadTarget[];
  connections: number;
  pipelining: number;
  warmupSeconds: number;
  sliceSeconds: number;
  rounds: number;
}

export interface LoadResult {
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

/** One target's responses over all its measured slices. */
class Tally {
  readonly bins = new Uint32Array(BUCKETS);
  readonly statusCodes: Record<string, number> = {};
  seconds = 0;
  ok = 0;
  totalMs = 0;
  errors = 0;
  timeouts = 0;
  non2xx = 0;

  record(status: number, ms: number): void {
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    if (status < 200 || status > 299) return;
    this.ok++;
    this.totalMs += ms;
    this.bins[Math.min(BUCKETS - 1, Math.floor(ms / BUCKET_MS))]!++;
  }

  percentile(p: number): number {
    if (this.ok === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.ok));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.bins[i]!;
      if (seen >= rank) return (i + 1) * BUCKET_MS;
    }
    return BUCKETS * BUCKET_MS;
  }

  result(): LoadResult {
    return {
      seconds: this.seconds, ok: this.ok, perSecond: this.ok / this.seconds, p50: this.percentile(0.5), p99: this.percentile(0.99),
      mean: this.totalMs / this.ok, errors: this.errors, timeouts: this.timeouts, non2xx: this.non2xx, statusCodes: this.statusCodes,
    };
  }
}

async function hammer(plan: LoadPlan, target: LoadTarget, seconds: number, tally: Tally | null): Promise<void> {
  const run = autocannon({ url: target.url, headers: target.headers, connections: plan.connections, pipelining: plan.pipelining, duration: seconds });
  if (tally) run.on('response', (_client, status, _bytes, ms) => tally.record(status, ms));
  const result = await run;
  if (!tally) return;
  tally.seconds += result.duration;
  tally.errors += result.errors;
  tally.timeouts += result.timeouts;
  tally.non2xx += result.non2xx;
}

function say(message: object): void {
  console.log(JSON.stringify(message));
}

const plan = JSON.parse(process.argv[2]!) as LoadPlan;
const tallies = new Map(plan.targets.map((t) => [t.name, new Tally()]));
for (const target of plan.targets) if (plan.warmupSeconds > 0) await hammer(plan, target, plan.warmupSeconds, null);
for (let round = 0; round < plan.rounds; round++) {
  for (const target of plan.targets) {
    say({ phase: 'slice', target: target.name, state: 'start' });
    await hammer(plan, target, plan.sliceSeconds, tallies.get(target.name)!);
    say({ phase: 'slice', target: target.name, state: 'end' });
  }
}
say({ phase: 'done', results: Object.fromEntries([...tallies].map(([name, tally]) => [name, tally.result()])) });
