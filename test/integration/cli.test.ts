import { spawn, type ChildProcess } from 'node:child_process';
import { cliSandbox, freePort, gatehouseBin } from '../helpers/cli.ts';

// The first-run story end to end, as a platform engineer does it: no database configured, so
// the embedded one is created in the data directory; bootstrap prints the three ids; the
// server serves /healthz and the printed API key lists the org's members; SIGTERM stops it.
const cli = cliSandbox();
const run = (args: string[], extra: Record<string, string> = {}) => cli.run(args, extra);

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
  cli.cleanup();
});

test('bootstrap, serve, list members with the printed key, refuse a second process, stop cleanly', async () => {
  const boot = await run(['bootstrap', '--org-name', 'Acme', '--owner-email', 'Owner@Acme.test', '--owner-password', 'correct horse battery', '--json']);
  expect(boot.code).toBe(0);
  const ids = JSON.parse(boot.stdout);
  expect(ids).toEqual({ orgId: expect.stringMatching(/^[0-9a-f-]{36}$/), userId: expect.stringMatching(/^[0-9a-f-]{36}$/), apiKey: expect.stringMatching(/^gh_/) });
  expect(boot.stderr).not.toContain(ids.apiKey);

  const port = await freePort();
  server = spawn(process.execPath, [gatehouseBin, 'serve'], { env: { ...cli.env, PORT: String(port) } });
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

  // the operator's switch for a person: disabling revokes the bootstrap key with everything else
  const disabled = await run(['users', 'disable', '--email', 'owner@acme.test']);
  expect(disabled.code).toBe(0);
  expect(disabled.stdout).toContain(`user ${ids.userId} disabled`);
  const unknown = await run(['users', 'disable', '--email', 'nobody@acme.test']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/no user with the email/);
  const after = await run(['audit', 'verify', '--org', ids.orgId, '--json']);
  expect(JSON.parse(after.stdout)).toMatchObject({ intact: true, eventsChecked: 5 });
}, 90_000);

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
