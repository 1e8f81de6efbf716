import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The embedded database is a directory that exactly one process may open at a time: a second
// process (say `gatehouse bootstrap` while `gatehouse serve` runs) would corrupt it. A pid file
// turns that into a clear error; a stale one (its process gone) is taken over.
export function lockDataDir(dir: string): () => void {
  const path = join(dir, 'gatehouse.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8'));
      if (pid && pid !== process.pid && alive(pid)) {
        throw new Error(`the embedded database in ${dir} is in use by process ${pid}; stop it first (or set DATABASE_URL to share a PostgreSQL server)`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock the embedded database in ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
