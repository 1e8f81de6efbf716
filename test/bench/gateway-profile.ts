import { readFileSync } from 'node:fs';

// Summarises a V8 CPU profile of a gateway process (`BENCH_GATEWAY_PROFILE_DIR=dir npm run bench`
// writes one per gateway process): `node test/bench/gateway-profile.ts <file.cpuprofile> [top]`
// prints where the busy time went by area (Gatehouse's code, each package, Node's internals, GC)
// and the functions with the most self time, each with its share of the busy time.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function area(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'V8/native (program)';
  if (!url) return `native ${name || '(anonymous)'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `package ${pkg[1]}`;
  if (url.startsWith('node:')) return 'Node internals';
  const own = /\/(src|config|test)\/(.*)$/.exec(url);
  return own ? `gatehouse ${own[1]}/${own[2]!.split('/')[0]}` : url;
}

function summarize(path: string, top: number): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, time] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + time);
    const where = url ? `${url.replace(/^.*\/(node_modules|src|test|config)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + time);
  }
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  console.log(`${path}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / total).toFixed(0)}%)`);
  console.log('by area (self time, % of busy):');
  for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`  ${pct(t)}  ${a}`);
  console.log(`top ${top} functions by self time:`);
  for (const [f, t] of [...functions].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`  ${pct(t)}  ${f}`);
}

const [file, top] = process.argv.slice(2);
if (!file) throw new Error('usage: node test/bench/gateway-profile.ts <file.cpuprofile> [top]');
summarize(file, Number(top ?? 30));
