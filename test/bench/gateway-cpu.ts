import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { descendants } from './gateway-processes.ts';

// Where the CPU goes during a measured run (Linux /proc; all zero elsewhere): per process tree
// (a gateway with workers is its primary and the workers it forked) and for the whole machine,
// so "everything else" (PostgreSQL, the bench runner, other users of this shared machine) shows.

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one process in seconds; 0 when it is gone or /proc is missing. */
function processSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return 0;
  }
}

export function treeSeconds(pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, p) => sum + processSeconds(p), 0);
}

/** Busy CPU seconds of the whole machine (all cores) since boot. */
export function machineSeconds(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
    const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
    return busy / clockTicks();
  } catch {
    return 0;
  }
}

export interface CpuSnapshot {
  at: number;
  machine: number;
  trees: Map<string, number>;
}

export function snapshot(pids: Map<string, number>): CpuSnapshot {
  const trees = new Map<string, number>();
  for (const [label, pid] of pids) trees.set(label, treeSeconds(pid));
  return { at: performance.now(), machine: machineSeconds(), trees };
}

/** CPU used over a target's measured slices, per labelled tree and by everything else. */
export class CpuAccount {
  #wall = 0;
  #machine = 0;
  readonly #used = new Map<string, number>();

  add(before: CpuSnapshot, after: CpuSnapshot): void {
    this.#wall += (after.at - before.at) / 1000;
    this.#machine += after.machine - before.machine;
    for (const [label, end] of after.trees) this.#used.set(label, (this.#used.get(label) ?? 0) + end - (before.trees.get(label) ?? end));
  }

  /** % of one core per labelled tree, and what the rest of the machine used meanwhile. */
  shares(): Record<string, number> {
    const pct = (seconds: number) => Math.round((1000 * seconds) / this.#wall) / 10;
    const shares: Record<string, number> = {};
    let ours = 0;
    for (const [label, used] of this.#used) {
      ours += used;
      shares[label] = pct(used);
    }
    shares['everything else'] = Math.max(0, pct(this.#machine - ours));
    return shares;
  }
}
