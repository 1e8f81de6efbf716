import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The gateway bench's server processes: each its own process with its output in a log file (a
// pipe would cost the bench runner CPU while a server logs under load), ready when it answers
// HTTP, stopped by its own pid (and whatever it forked, for GATEWAY_WORKERS).

export interface Server {
  label: string;
  pid: number;
  url: string;
  logPath: string;
  stop(): Promise<void>;
}

export const benchDir = import.meta.dirname;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

/** Direct children and their children, from /proc (Linux); empty elsewhere. */
export function descendants(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children.flatMap((child) => [child, ...descendants(child)]);
  } catch {
    return [];
  }
}

/** Runs `node <args>` with `env` added, waits until `url` answers HTTP (any status). */
export async function startServer(label: string, args: string[], env: Record<string, string>, url: string, logDir: string): Promise<Server> {
  const logPath = join(logDir, `${label.replace(/\W+/g, '-')}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const deadline = Date.now() + 60_000;
  while (!(await answers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${label} did not start (exit ${child.exitCode}); its log ${logPath}:\n${tail(logPath)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    label, pid: child.pid!, url, logPath,
    async stop() {
      const forked = descendants(child.pid!);
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(force);
      for (const pid of forked) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone with its primary
        }
      }
    },
  };
}
