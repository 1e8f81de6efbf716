import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const gatehouseBin = join(process.cwd(), 'bin/gatehouse.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The `gatehouse` command as an operator runs it: its own process, no DATABASE_URL, an embedded
 * database in a fresh temp dir. `cleanup()` removes the dir.
 */
export function cliSandbox(extraEnv: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  const { DATABASE_URL: _url, DATABASE_MIGRATION_URL: _migration, ...baseEnv } = process.env;
  const env = { ...baseEnv, GATEHOUSE_DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'info', ...extraEnv };
  return {
    dataDir,
    env,
    run(args: string[], more: Record<string, string> = {}): Promise<Run> {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [gatehouseBin, ...args], { env: { ...env, ...more } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    cleanup(): void {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
