import { performance } from 'node:perf_hooks';
import type { PGlite } from '@electric-sql/pglite';
import type { EntityManager } from '@mikro-orm/sql';
import pg from 'pg';
import { APP_ROLE } from '../../src/db/database.ts';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createOrg } from '../helpers/factories.ts';
import { provisionDatabase, type BenchDatabase } from './bench-database.ts';
import { ms, round, summarize, type Latency } from './latency.ts';

// Members page: GET /api/v1/orgs/:orgId/members through the whole app (auth, org scope, RLS,
// validation, JSON) against the bare page transaction sent with a plain driver on the same
// database. Requests alternate page by page, so both sides see the same machine noise.

const MEMBERS = 10_000;
const PAGE_SIZE = 50;
const WALKS = 5;
const TARGET_P99_MS = 20;

interface PageBody {
  data: unknown[];
  nextCursor: string | null;
}

/** A connection of its own, as the tables' owner, that runs statements one round trip each. */
interface Baseline {
  label: string;
  run(statements: string[]): Promise<unknown[][]>;
  /** Planner statistics, as autovacuum would gather them soon after a bulk load in a live system. */
  analyze(): Promise<void>;
  close(): Promise<void>;
}

async function openBaseline(t: TestApp, database: BenchDatabase): Promise<Baseline> {
  if (database.url) {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    return {
      label: 'pg',
      async run(statements) {
        const results: unknown[][] = [];
        for (const sql of statements) results.push((await client.query(sql)).rows);
        return results;
      },
      analyze: async () => { await client.query('ANALYZE users, memberships'); },
      close: () => client.end(),
    };
  }
  // PGlite has one session, shared with the app; requests are sequential, so they never overlap.
  const { pglite } = t.db.orm.config.get('driverOptions') as { pglite: PGlite };
  return {
    label: 'pglite',
    async run(statements) {
      const results: unknown[][] = [];
      for (const sql of statements) results.push((await pglite.exec(sql))[0]?.rows ?? []);
      return results;
    },
    // The shared session runs as the app role, which owns nothing; ANALYZE needs the owner.
    analyze: async () => { await pglite.exec(`RESET ROLE; ANALYZE users, memberships; SET ROLE ${APP_ROLE}`); },
    close: async () => undefined,
  };
}

/**
 * What one members request sends in its org transaction, as text: MikroORM inlines parameters and
 * opens the transaction with one set_config statement for the role and the org (Database.inOrg).
 * The page query is taken from MembersRepository.listPage itself, so the baseline follows it.
 */
async function pageTransaction(t: TestApp, orgId: string, after: string | undefined): Promise<string[]> {
  const platform = t.db.orm.em.getPlatform();
  let pageSql = '';
  const recorder = {
    execute(sql: string, params: unknown[]) {
      pageSql = platform.formatQuery(sql, params);
      return Promise.resolve([]);
    },
  };
  await new MembersRepository(recorder as unknown as EntityManager).listPage(orgId, PAGE_SIZE, after);
  return [
    'begin',
    platform.formatQuery('select set_config(?, ?, true), set_config(?, ?, true)', ['role', APP_ROLE, 'app.org_id', orgId]),
    pageSql,
    'commit',
  ];
}

/** Users and memberships in two set-based inserts, inside the org scope that RLS requires. */
async function seedMembers(t: TestApp, orgId: string, count: number): Promise<number> {
  const started = performance.now();
  const tag = Date.now();
  await t.db.inOrg(orgId, (em) =>
    em.execute(
      // Membership ids are UUIDv7-shaped with a millisecond field of tag + i, so they increase with
      // i, as real ids do over time; the page order (ORDER BY m.id) is the insertion order.
      `WITH seq AS MATERIALIZED (
         SELECT i, gen_random_uuid() AS user_id FROM generate_series(1, ?) AS i
       ), new_users AS (
         INSERT INTO users (id, email, name)
         SELECT user_id, 'bench-' || ? || '-' || i || '@example.test', 'Bench member ' || i FROM seq
       )
       INSERT INTO memberships (id, org_id, user_id, role, source)
       SELECT (lpad(to_hex(?::bigint + i), 12, '0') || '7000' || '8000' || lpad(to_hex(i), 12, '0'))::uuid,
              ?, user_id, 'member', 'invite'
         FROM seq`,
      [count, tag, tag, orgId],
    ));
  return performance.now() - started;
}

/** One walk over every page, API then baseline for each page; durations are pushed when recording. */
async function walk(t: TestApp, orgId: string, key: string, baseline: Baseline, samples?: { api: number[]; base: number[] }) {
  let cursor: string | null = null;
  let seen = 0;
  do {
    const path: string = `/api/v1/orgs/${orgId}/members?limit=${PAGE_SIZE}${cursor ? `&cursor=${cursor}` : ''}`;
    const after = cursor ? Buffer.from(cursor, 'base64url').toString('utf8') : undefined;
    const statements = await pageTransaction(t, orgId, after);

    let started = performance.now();
    const res = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const body = (await res.json()) as PageBody;
    const apiMs = performance.now() - started;
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body)} (TEST_LOG_LEVEL=error shows the app log)`);

    started = performance.now();
    const rows = (await baseline.run(statements))[2]!;
    const baseMs = performance.now() - started;
    if (rows.length !== body.data.length + (body.nextCursor ? 1 : 0)) {
      throw new Error(`baseline returned ${rows.length} rows for a page of ${body.data.length}`);
    }

    samples?.api.push(apiMs);
    samples?.base.push(baseMs);
    seen += body.data.length;
    cursor = body.nextCursor;
  } while (cursor);
  if (seen !== MEMBERS + 1) throw new Error(`a walk saw ${seen} members, expected ${MEMBERS + 1}`);
}

function report(database: BenchDatabase, driver: string, seedMs: number, samples: { api: number[]; base: number[] }): void {
  const api = summarize(samples.api);
  const base = summarize(samples.base);
  const ratio = { p50: api.p50 / base.p50, p99: api.p99 / base.p99 };
  const met = api.p99 < TARGET_P99_MS;
  const row = (label: string, l: Latency) => `  ${label.padEnd(26)} p50 ${ms(l.p50)}   p99 ${ms(l.p99)}   mean ${ms(l.mean)}`;
  console.log(`members bench on ${database.description}`);
  console.log(`  seeded ${MEMBERS} members (+ the owner) in ${(seedMs / 1000).toFixed(2)} s, then ANALYZE; ${WALKS} walks x ${samples.api.length / WALKS} pages of ${PAGE_SIZE} = ${samples.api.length} requests per side, after one warm-up walk`);
  console.log(`  baseline (${driver}): one request's org transaction as SQL text: begin; set_config(role, app.org_id); listPage query; commit (the API-key lookup transaction is not in it)`);
  console.log(row('API GET /members', api));
  console.log(row(`${driver} page transaction`, base));
  console.log(`  ${`ratio API/${driver}`.padEnd(26)} p50 ${ratio.p50.toFixed(2)}x      p99 ${ratio.p99.toFixed(2)}x`);
  console.log(`  target API p99 < ${TARGET_P99_MS} ms: ${met ? 'met' : 'NOT met'}`);
  const r = (l: Latency) => ({ p50: round(l.p50), p99: round(l.p99), mean: round(l.mean) });
  console.log(JSON.stringify({
    bench: 'members', database: database.kind, members: MEMBERS, pageSize: PAGE_SIZE, walks: WALKS,
    requests: samples.api.length, unit: 'ms', api: r(api), baseline: { driver, ...r(base) },
    ratio: { p50: round(ratio.p50), p99: round(ratio.p99) }, target: { apiP99Ms: TARGET_P99_MS, met },
  }));
}

export async function membersBench(): Promise<void> {
  const database = await provisionDatabase();
  let t: TestApp | undefined;
  let baseline: Baseline | undefined;
  try {
    // DATABASE_URL '' (ignored by the loader) means embedded PGlite in memory.
    t = await startApp({ DATABASE_URL: database.url ?? '' });
    const org = await createOrg(t);
    const seedMs = await seedMembers(t, org.orgId, MEMBERS);
    baseline = await openBaseline(t, database);
    await baseline.analyze(); // without statistics the planner sorts the whole org for every page

    await walk(t, org.orgId, org.owner.key, baseline); // warm-up: JIT, plan caches, pools
    const samples = { api: [] as number[], base: [] as number[] };
    for (let i = 0; i < WALKS; i++) await walk(t, org.orgId, org.owner.key, baseline, samples);

    report(database, baseline.label, seedMs, samples);
  } finally {
    await baseline?.close();
    await t?.close();
    await database.drop();
  }
}
