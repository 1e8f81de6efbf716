import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { RoutePolicyFile } from '../../src/gateway/route-policy-file.ts';
import { RoutePolicyError } from '../../src/gateway/route-policy.ts';

const orgId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

const policyV1 = `permissions:
  agents:read: [owner, admin, member, viewer]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
`;
const policyV2 = `permissions:
  agents:read: [owner, admin, member, viewer]
  agents:write: [owner, admin]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
  - match: POST /orgs/:orgId/agents
    permission: agents:write
`;
const policyBad = `permissions:
  agents:read: [owner, admin, member, viewer]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
  - match: POST /orgs/:orgId/agents
    permission: agents:writ
`;

let dir: string;
let files: RoutePolicyFile[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-routes-'));
});
afterEach(() => {
  for (const f of files) f.close();
  files = [];
  rmSync(dir, { recursive: true, force: true });
});

/** A pino logger whose records the test can read. */
function capturingLogger() {
  const records: Array<Record<string, any>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { records.push(JSON.parse(line)); } });
  return { logger, records };
}

async function open(path: string, logger = capturingLogger().logger): Promise<RoutePolicyFile> {
  const file = await RoutePolicyFile.open(path, logger, { debounceMs: 50, pollMs: 250 });
  files.push(file);
  return file;
}

async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('not within the time allowed');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a bad file at start-up throws with its line errors', async () => {
  const path = join(dir, 'routes.yaml');
  writeFileSync(path, policyBad);
  const err = await RoutePolicyFile.open(path, capturingLogger().logger).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RoutePolicyError);
  expect((err as RoutePolicyError).errors).toEqual([{ line: 7, message: 'permission "agents:writ" is not declared under `permissions:`' }]);
});

test('a missing file at start-up throws', async () => {
  await expect(RoutePolicyFile.open(join(dir, 'nope.yaml'), capturingLogger().logger)).rejects.toThrow(/ENOENT/);
});

test('a change to the file is in force within a second or two; reload listeners are told', async () => {
  const path = join(dir, 'routes.yaml');
  writeFileSync(path, policyV1);
  const file = await open(path);
  let reloads = 0;
  file.onReload(() => { reloads++; });
  expect(file.match('POST', `/orgs/${orgId}/agents`)).toBeNull();
  expect(file.ofBuiltinRole('admin')).toEqual(['agents:read']);
  const declaredBefore = file.declared;
  writeFileSync(path, policyV2);
  await eventually(() => file.match('POST', `/orgs/${orgId}/agents`) !== null);
  expect(file.match('POST', `/orgs/${orgId}/agents`)).toMatchObject({ permission: 'agents:write', orgId });
  expect([...file.declared]).toEqual(['agents:read', 'agents:write']);
  expect(file.ofBuiltinRole('admin')).toEqual(['agents:read', 'agents:write']);
  expect(file.ofBuiltinRole('member')).toEqual(['agents:read']);
  expect(reloads).toBe(1);
  // A new policy is a new `declared` set: the gateway's credential caches compare it by identity.
  expect(file.declared).not.toBe(declaredBefore);
});

test('an editor\'s rename-on-save is seen', async () => {
  const path = join(dir, 'routes.yaml');
  writeFileSync(path, policyV1);
  const file = await open(path);
  writeFileSync(join(dir, '.routes.yaml.swp'), policyV2);
  renameSync(join(dir, '.routes.yaml.swp'), path);
  await eventually(() => file.declared.has('agents:write'));
  // And the watch goes on after the rename (the directory is watched, not the old inode).
  writeFileSync(path, policyV1);
  await eventually(() => !file.declared.has('agents:write'));
});

test('a bad change is logged with its line errors and the last good policy stays in force; fixing it reloads', async () => {
  const path = join(dir, 'routes.yaml');
  writeFileSync(path, policyV1);
  const { logger, records } = capturingLogger();
  const file = await open(path, logger);
  writeFileSync(path, policyBad);
  await eventually(() => records.some((r) => r.level === 40 && r.errors));
  const warning = records.find((r) => r.level === 40 && r.errors)!;
  expect(warning.errors).toEqual([{ line: 7, message: 'permission "agents:writ" is not declared under `permissions:`' }]);
  expect(warning.msg).toMatch(/line 7: permission "agents:writ" is not declared/);
  // Still the old policy: the GET route matches, the new POST does not.
  expect(file.match('GET', `/orgs/${orgId}/agents`)).toMatchObject({ permission: 'agents:read' });
  expect(file.match('POST', `/orgs/${orgId}/agents`)).toBeNull();
  // The same bad text is reported once, not at every poll.
  await new Promise((r) => setTimeout(r, 600));
  expect(records.filter((r) => r.level === 40 && r.errors)).toHaveLength(1);
  writeFileSync(path, policyV2);
  await eventually(() => file.match('POST', `/orgs/${orgId}/agents`) !== null);
  expect(records.some((r) => r.msg === 'route policy reloaded')).toBe(true);
});

test('an emptied or deleted file keeps the last good policy', async () => {
  const path = join(dir, 'routes.yaml');
  writeFileSync(path, policyV2);
  const { logger, records } = capturingLogger();
  const file = await open(path, logger);
  writeFileSync(path, '');
  await eventually(() => records.some((r) => r.level === 40 && r.errors));
  expect(file.declared.has('agents:write')).toBe(true);
  rmSync(path);
  await new Promise((r) => setTimeout(r, 600));
  expect(file.match('POST', `/orgs/${orgId}/agents`)).toMatchObject({ permission: 'agents:write' });
});

test('after close() changes are no longer read', async () => {
  const path = join(dir, 'routes.yaml');
  writeFileSync(path, policyV1);
  const file = await open(path);
  file.close();
  writeFileSync(path, policyV2);
  await new Promise((r) => setTimeout(r, 700));
  expect(file.declared.has('agents:write')).toBe(false);
});
