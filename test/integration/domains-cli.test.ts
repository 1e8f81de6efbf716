import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { openDatabase } from '../../src/db/orm.ts';
import type { Database } from '../../src/db/database.ts';
import { txtResolver } from '../../src/modules/domains/dns-txt.ts';
import { DomainsService } from '../../src/modules/domains/domains.service.ts';
import { OrgScope } from '../../src/modules/scope.ts';
import { cliSandbox } from '../helpers/cli.ts';

// `gatehouse domains verify` as an operator runs it: the real binary, its own process, on the
// test PostgreSQL when there is one (else an embedded database in a temp dir, which the test
// opens itself between runs, as the data dir admits one process at a time) to see the rows and
// the audit trail.
const postgres = process.env.TEST_DATABASE_URL;
const cli = cliSandbox(postgres ? { DATABASE_URL: postgres } : {});
const suffix = randomUUID().slice(0, 8);
const acme = `acme-${suffix}.example`;
const other = `other-${suffix}.example`;
const run = (args: string[]) => cli.run(args);
let orgA: string;
let orgB: string;

afterAll(() => cli.cleanup());

async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl: postgres, dataDir: cli.dataDir, logger: pino({ level: 'silent' }) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** An org's domain rows and domain audit events. */
function stateOf(orgId: string) {
  return withDb((db) => db.inOrg(orgId, async (em) => ({
    domains: await em.execute<{ id: string; domain: string; verified_at: Date | null; verified_by: string | null }[]>(
      'SELECT id, domain, verified_at, verified_by FROM domains ORDER BY id'),
    events: await em.execute<{ type: string; actor_type: string; actor_id: string | null; target_id: string; after: any }[]>(
      `SELECT type, actor_type, actor_id, target_id, after FROM audit_events WHERE type LIKE 'domain.%' ORDER BY seq`),
  })));
}

async function bootstrap(name: string): Promise<string> {
  const res = await run(['bootstrap', '--org-name', name, '--owner-email', `owner-${randomUUID().slice(0, 6)}@example.test`, '--owner-password', 'correct horse battery', '--json']);
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout).orgId;
}

beforeAll(async () => {
  orgA = await bootstrap(`Acme ${suffix}`);
  orgB = await bootstrap(`Other ${suffix}`);
}, 60_000);

test('domains verify marks the domain verified by the operator, made and audited in the org', async () => {
  const res = await run(['domains', 'verify', '--org', orgA, '--domain', `${acme.toUpperCase()}.`]);
  expect(res.code).toBe(0);
  expect(res.stdout.trim()).toBe(`domain ${acme} verified for org ${orgA}`);
  const { domains, events } = await stateOf(orgA);
  expect(domains).toEqual([{ id: expect.any(String), domain: acme, verified_at: expect.anything(), verified_by: 'operator' }]);
  expect(events).toEqual([{ type: 'domain.verified', actor_type: 'system', actor_id: null, target_id: domains[0]!.id, after: expect.objectContaining({ domain: acme, verifiedBy: 'operator' }) }]);

  const audit = await run(['audit', 'verify', '--org', orgA, '--json']);
  expect(JSON.parse(audit.stdout)).toMatchObject({ intact: true });
}, 60_000);

test('verifying it again says so and changes nothing', async () => {
  const before = await stateOf(orgA);
  const res = await run(['domains', 'verify', '--org', orgA, '--domain', acme]);
  expect(res.code).toBe(0);
  expect(res.stdout).toContain('already verified');
  expect(await stateOf(orgA)).toEqual(before);
}, 60_000);

test('a domain another org holds verified: exit 1 with the reason, nothing changed', async () => {
  const before = await stateOf(orgB);
  const res = await run(['domains', 'verify', '--org', orgB, '--domain', acme]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(`domain.taken: ${acme} is already verified by another organization`);
  expect(await stateOf(orgB)).toEqual(before);
}, 60_000);

test('an org that does not exist: exit 1, nothing made', async () => {
  const missing = randomUUID();
  const res = await run(['domains', 'verify', '--org', missing, '--domain', 'nobody.example']);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(`no organization with the id ${missing}`);
  expect((await stateOf(missing)).domains).toEqual([]);
}, 60_000);

test('a pending claim the org added is the row that gets verified', async () => {
  const claim = await withDb((db) => db.inOrg(orgB, (em) =>
    new DomainsService(new OrgScope(orgB, em, null, { ip: null, userAgent: 'test', requestId: null }), txtResolver({})).add(other)));
  const res = await run(['domains', 'verify', '--org', orgB, '--domain', other]);
  expect(res.code).toBe(0);
  const { domains, events } = await stateOf(orgB);
  expect(domains).toEqual([expect.objectContaining({ id: claim.id, domain: other, verified_by: 'operator' })]);
  expect(events.map((e) => e.type)).toEqual(['domain.added', 'domain.verified']);
}, 60_000);

describe('bad arguments exit 2 and change nothing', () => {
  // Nothing here changes anything, so one look before them all is each one's "before".
  let before: Awaited<ReturnType<typeof stateOf>>;
  beforeAll(async () => {
    before = await stateOf(orgA);
  }, 60_000);

  // ORG stands for org A's id.
  test.each([
    ['a domain that is not one', ['verify', '--org', 'ORG', '--domain', 'localhost'], /domain: needs at least two labels/],
    ['an IP address', ['verify', '--org', 'ORG', '--domain', '192.0.2.1'], /domain: an IP address/],
    ['an org id that is not a uuid', ['verify', '--org', 'acme', '--domain', 'x.example'], /org: an org id/],
    ['no --domain', ['verify', '--org', 'ORG'], /domains verify --org ORG_ID --domain D/],
    ['no subcommand', ['--org', 'ORG', '--domain', 'x.example'], /domains verify --org ORG_ID --domain D/],
  ])('%s', async (_what, args, message) => {
    const res = await run(['domains', ...args.map((a) => (a === 'ORG' ? orgA : a))]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(await stateOf(orgA)).toEqual(before);
  }, 60_000);
});
