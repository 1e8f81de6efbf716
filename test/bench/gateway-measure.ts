import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { cpuShares, snapshot, type CpuSnapshot } from './gateway-cpu.ts';
import type { LoadOptions, LoadResult } from './gateway-load.ts';
import { benchDir } from './gateway-processes.ts';

// One measured target: the load generator in its own process against `options.url`, with the
// CPU of each watched process tree (and the load generator's) sampled around the measured run.

export interface Measurement extends LoadResult {
  cpu: Record<string, number>;
}

export async function measureTarget(options: LoadOptions, watched: Map<string, number>): Promise<Measurement> {
  const child = spawn(process.execPath, [join(benchDir, 'gateway-load.ts'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = new Map([...watched, ['load generator', child.pid!]]);
  let before: CpuSnapshot | undefined;
  let result: LoadResult | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const message = JSON.parse(line) as { phase: 'measure' } | LoadResult;
    if (message.phase === 'measure') before = snapshot(pids);
    else result = message;
    // The load generator's own CPU is read before it exits (a gone process reads as 0).
    if (result && before) return { ...result, cpu: cpuShares(before, snapshot(pids)) };
  }
  throw new Error(`load generator against ${options.url} ended without a result (exit ${child.exitCode})`);
}
