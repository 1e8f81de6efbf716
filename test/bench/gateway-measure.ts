import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { CpuAccount, snapshot, type CpuSnapshot } from './gateway-cpu.ts';
import type { LoadPlan, LoadResult } from './gateway-load.ts';
import { benchDir } from './gateway-processes.ts';

// Runs the load generator (its own process) over a plan's targets and samples the CPU of each
// target's process trees (and the load generator's) around every measured slice.

export interface Measurement extends LoadResult {
  /** % of one core per process tree, 'everything else' being the rest of the machine. */
  cpu: Record<string, number>;
}

type Message =
  | { phase: 'slice'; target: string; state: 'start' | 'end' }
  | { phase: 'done'; results: Record<string, LoadResult> };

/** `watched`: per target name, the labelled pids serving it. */
export async function measureTargets(plan: LoadPlan, watched: Map<string, Map<string, number>>): Promise<Map<string, Measurement>> {
  const child = spawn(process.execPath, [join(benchDir, 'gateway-load.ts'), JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const accounts = new Map(plan.targets.map((t) => [t.name, new CpuAccount()]));
  const pidsOf = (target: string) => new Map([...(watched.get(target) ?? []), ['load generator', child.pid!]]);
  let before: CpuSnapshot | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const message = JSON.parse(line) as Message;
    if (message.phase === 'slice' && message.state === 'start') before = snapshot(pidsOf(message.target));
    else if (message.phase === 'slice') accounts.get(message.target)!.add(before!, snapshot(pidsOf(message.target)));
    else return new Map(Object.entries(message.results).map(([name, result]) => [name, { ...result, cpu: accounts.get(name)!.shares() }]));
  }
  throw new Error(`load generator ended without a result (exit ${child.exitCode})`);
}
