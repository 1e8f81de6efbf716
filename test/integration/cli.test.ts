import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The first-run story end to end, as a platform engineer does it: no database configured, so
// the embedded one is created in the data directory; bootstrap prints the three ids; the
// server serves /healthz and the printed API key lists the org's members; SIGTERM stops it.
const bin = join(process.cwd(), 'bin/gatehouse.js');
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
const { DATABASE_URL: _ignored, ...baseEnv } = process.env;
const env = { ...baseEnv, GATEHOUSE_DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'info' };

function run(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...env, ...extra } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string): Promise<Response> {
  for (let i = 0; i < 100; i++) {
    try {
      return await fetch(url);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} never answered`);
}

let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

test('bootstrap, serve, list members with the printed key, refuse a second process, stop cleanly', async () => {
  const boot = await run(['bootstrap', '--org-name', 'Acme', '--owner-email', 'Owner@Acme.test', '--owner-password', 'correct horse battery', '--json']);
  expect(boot.code).toBe(0);
  const ids = JSON.parse(boot.stdout);
  expect(ids).toEqual({ orgId: expect.stringMatching(/^[0-9a-f-]{36}$/), userId: expect.stringMatching(/^[0-9a-f-]{36}$/), apiKey: expect.stringMatching(/^gh_/) });
  expect(boot.stderr).not.toContain(ids.apiKey);

  const port = await freePort();
  server = spawn(process.execPath, [bin, 'serve'], { env: { ...env, PORT: String(port) } });
  let logs = '';
  server.stdout!.on('data', (d) => (logs += d));
  const health = await waitFor(`http://127.0.0.1:${port}/healthz`);
  expect(health.status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

  const members = await fetch(`http://127.0.0.1:${port}/api/v1/orgs/${ids.orgId}/members`, { headers: { authorization: `Bearer ${ids.apiKey}` } });
  expect(members.status).toBe(200);
  const body = await members.json() as { data: { userId: string; email: string; role: string }[] };
  expect(body.data).toEqual([expect.objectContaining({ userId: ids.userId, email: 'owner@acme.test', role: 'owner' })]);

  const second = await run(['bootstrap', '--org-name', 'Other', '--owner-email', 'x@acme.test', '--owner-password', 'correct horse battery']);
  expect(second.code).not.toBe(0);
  expect(second.stderr).toMatch(/in use by process/);

  const exited = new Promise<number | null>((resolve) => server!.on('exit', (code) => resolve(code)));
  server.kill('SIGTERM');
  expect(await exited).toBe(0);
  server = undefined;
  // logs are JSON lines with request ids, and never carry the key
  const lines = logs.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.some((l) => l.msg === 'request' && l.requestId && l.path === '/healthz')).toBe(true);
  expect(logs).not.toContain(ids.apiKey);

  const verify = await run(['audit', 'verify', '--org', ids.orgId, '--json']);
  expect(verify.code).toBe(0);
  expect(JSON.parse(verify.stdout)).toEqual({ intact: true, eventsChecked: 3, brokenAt: null });
}, 60_000);

test('bootstrap refuses bad input with a clear message', async () => {
  const res = await run(['bootstrap', '--org-name', 'Acme', '--owner-email', 'not-an-email', '--owner-password', 'short']);
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/ownerEmail/);
  expect(res.stderr).toMatch(/ownerPassword: at least 12 characters/);
});

test('a bad configuration lists every problem and exits non-zero', async () => {
  const res = await run(['serve'], { PORT: 'x', PUBLIC_URL: 'nope' });
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/port:/);
  expect(res.stderr).toMatch(/publicUrl:/);
});
