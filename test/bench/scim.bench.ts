import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createOrg } from '../helpers/factories.ts';
import { provisionDatabase, type BenchDatabase } from './bench-database.ts';
import { ms, round, summarize, type Latency } from './latency.ts';

// SCIM at scale (issue 5, acceptance): an IdP provisioning 10,000 users and 100 groups through
// /scim/v2/:directoryId, growing one group to 5,000 members by PATCHes of 100 and shrinking it by
// 1,000, looking users up by `userName eq` (as Okta does before every create) and paging through
// everyone 100 at a time. Every phase runs at CONCURRENCY requests in flight, over HTTP against
// the whole app on PostgreSQL. The baseline is the same database's plain single-row INSERT rate
// at the same concurrency (autocommit: one INSERT, one commit, one round trip), measured first.
// Answers are checked while measuring: a wrong answer fails the bench rather than being timed.
// As in the other benches, the load comes from this process, so it shares the app's event loop
// (about 5% of the process's CPU in a profile of this bench).

const CONCURRENCY = 4;
const USERS = 10_000;
const GROUPS = 100;
const GROUP_SIZE = 5_000;
const REMOVED = 1_000;
const PATCH_SIZE = 100;
const LOOKUPS = 2_000;
const PAGE_SIZE = 100;
const PAGE_WALKS = 2;
const BASELINE_INSERTS = 8_000;
const TARGET = { createsPerSecond: 500, patchP99Ms: 100, lookupP99Ms: 20, pageP99Ms: 50 };

const SCIM = 'urn:ietf:params:scim:schemas:core:2.0';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Phase {
  label: string;
  ops: number;
  perSecond: number;
  latency: Latency;
}

/** `count` operations from CONCURRENCY loops; `op(i, loop)` runs once for each i in [0, count). */
async function measure(label: string, count: number, op: (i: number, loop: number) => Promise<void>): Promise<Phase> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, loop) => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await op(i, loop);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { label, ops: count, perSecond: count / seconds, latency: summarize(latencies) };
}

/** Plain single-row INSERTs into a throwaway table, CONCURRENCY connections, autocommit. */
async function baselineInserts(url: string): Promise<Phase> {
  const clients = await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  }));
  try {
    await clients[0]!.query('CREATE TABLE bench_scim_baseline (id uuid PRIMARY KEY, user_name text NOT NULL, resource jsonb NOT NULL)');
    const insert = (client: pg.Client, i: number) => client.query(
      'INSERT INTO bench_scim_baseline (id, user_name, resource) VALUES (gen_random_uuid(), $1, $2)',
      [`baseline.${i}@example.test`, JSON.stringify(userBody(i))]);
    // Each loop of measure() has a connection of its own, as each request has in the app's pool.
    const run = (offset: number, count: number, label: string) =>
      measure(label, count, (i, loop) => insert(clients[loop]!, offset + i).then(() => undefined));
    await run(0, 400, 'warm-up');
    return await run(400, BASELINE_INSERTS, 'pg INSERT (autocommit)');
  } finally {
    await clients[0]!.query('DROP TABLE IF EXISTS bench_scim_baseline').catch(() => undefined);
    await Promise.all(clients.map((c) => c.end()));
  }
}

/**
 * Planner statistics, as autovacuum gathers them within a minute of a bulk load in a live system
 * (autovacuum_naptime): the bench loads 10,000 users faster than that, and without statistics the
 * planner sorts the whole directory for every page. Outside every measured phase.
 */
async function analyze(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('ANALYZE users, memberships, directory_users, directory_groups, directory_group_members');
  } finally {
    await client.end();
  }
}

/** A user as Okta pushes one (Okta's SCIM 2.0 reference: create body after a userName lookup). */
function userBody(i: number) {
  const given = `Given${i}`;
  const family = `Family${i % 97}`;
  const email = `${given.toLowerCase()}.${family.toLowerCase()}.${i}@bench.example.test`;
  return {
    schemas: [`${SCIM}:User`],
    userName: email,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: email, type: 'work' }],
    displayName: `${given} ${family}`,
    locale: 'en-US',
    externalId: `00u${i.toString(36).padStart(8, '0')}bench7`,
    groups: [],
    active: true,
  };
}

interface Scim {
  base: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

function scimClient(base: string, token: string): Scim {
  return {
    base,
    async call(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/scim+json',
          ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

async function expectStatus(scim: Scim, status: number, method: string, path: string, body?: unknown): Promise<any> {
  const res = await scim.call(method, path, body);
  if (res.status !== status) {
    throw new Error(`${method} ${path}: ${res.status}, expected ${status}: ${JSON.stringify(res.body)?.slice(0, 500)} (TEST_LOG_LEVEL=error shows the app log)`);
  }
  return res.body;
}

/** An org and its directory through the directories API, as an IT admin would set it up. */
async function setUpDirectory(t: TestApp): Promise<Scim> {
  const org = await createOrg(t);
  const res = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'Okta (bench)', defaultRole: 'member' });
  if (res.status !== 201) throw new Error(`POST directories: ${res.status} ${JSON.stringify(res.body)}`);
  const { id, scimBaseUrl, token } = res.body as { id: string; scimBaseUrl: string; token: string };
  const path = `/scim/v2/${id}`;
  if (!String(scimBaseUrl).endsWith(path)) throw new Error(`scimBaseUrl ${scimBaseUrl} does not end with ${path}`);
  return scimClient(`${t.url}${path}`, token);
}

const patch = (operations: unknown[]) => ({ schemas: [PATCH_OP], Operations: operations });
const memberValues = (ids: string[]) => ids.map((value) => ({ value }));

async function provision(scim: Scim, userIds: string[], groupIds: string[]): Promise<Phase[]> {
  const creates = await measure('POST /Users', USERS, async (i) => {
    const body = userBody(i);
    const created = await expectStatus(scim, 201, 'POST', '/Users', body);
    if (created.userName !== body.userName || typeof created.id !== 'string') throw new Error(`POST /Users answered ${JSON.stringify(created)}`);
    userIds[i] = created.id;
  });
  const groups = await measure('POST /Groups', GROUPS, async (i) => {
    const created = await expectStatus(scim, 201, 'POST', '/Groups', { schemas: [`${SCIM}:Group`], displayName: `Bench group ${i}`, members: [] });
    groupIds[i] = created.id;
  });
  return [creates, groups];
}

/**
 * Grows the group to GROUP_SIZE by add PATCHes of PATCH_SIZE, then removes the first REMOVED
 * members: half the PATCHes name them in a value list (Okta), half one `members[value eq]` path
 * per member (Entra). Answers 204; the group's members are checked afterwards. The PATCHes in
 * flight to one group take its row in turn, so a PATCH's latency includes waiting for the others.
 */
async function growAndShrink(scim: Scim, groupId: string, userIds: string[]): Promise<Phase[]> {
  const slice = (n: number) => userIds.slice(n * PATCH_SIZE, (n + 1) * PATCH_SIZE);
  const grow = await measure(`PATCH add ${PATCH_SIZE} (group 0 → ${GROUP_SIZE})`, GROUP_SIZE / PATCH_SIZE, async (n) => {
    await expectStatus(scim, 204, 'PATCH', `/Groups/${groupId}`, patch([{ op: 'add', path: 'members', value: memberValues(slice(n)) }]));
  });
  const shrink = await measure(`PATCH remove ${PATCH_SIZE} (${GROUP_SIZE} → ${GROUP_SIZE - REMOVED})`, REMOVED / PATCH_SIZE, async (n) => {
    const operations = n % 2 === 0
      ? [{ op: 'remove', path: 'members', value: memberValues(slice(n)) }]
      : slice(n).map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` }));
    await expectStatus(scim, 204, 'PATCH', `/Groups/${groupId}`, patch(operations));
  });
  const group = await expectStatus(scim, 200, 'GET', `/Groups/${groupId}`);
  const members = new Set<string>(((group.members ?? []) as Array<{ value: string }>).map((m) => m.value));
  const wanted = userIds.slice(REMOVED, GROUP_SIZE);
  if (members.size !== GROUP_SIZE - REMOVED || !wanted.every((id) => members.has(id))) {
    throw new Error(`group has ${members.size} members, expected exactly users ${REMOVED}..${GROUP_SIZE - 1} (${GROUP_SIZE - REMOVED})`);
  }
  return [grow, shrink];
}

async function lookUp(scim: Scim, userIds: string[]): Promise<Phase> {
  return measure('GET /Users?filter=userName eq', LOOKUPS, async (n) => {
    const i = (n * 7919) % USERS; // spread over the table, not the last-written pages
    const filter = encodeURIComponent(`userName eq "${userBody(i).userName}"`);
    const body = await expectStatus(scim, 200, 'GET', `/Users?filter=${filter}`);
    if (body.totalResults !== 1 || body.Resources?.length !== 1 || body.Resources[0].id !== userIds[i]) {
      throw new Error(`lookup of user ${i} answered totalResults ${body.totalResults}, ${body.Resources?.length} resources`);
    }
  });
}

async function walkPages(scim: Scim, userIds: string[]): Promise<Phase> {
  const pages = Math.ceil(USERS / PAGE_SIZE);
  const seen = new Set<string>();
  const phase = await measure(`GET /Users page of ${PAGE_SIZE}`, pages * PAGE_WALKS, async (n) => {
    const startIndex = (n % pages) * PAGE_SIZE + 1;
    const body = await expectStatus(scim, 200, 'GET', `/Users?startIndex=${startIndex}&count=${PAGE_SIZE}`);
    if (body.totalResults !== USERS || body.startIndex !== startIndex || body.Resources?.length !== Math.min(PAGE_SIZE, USERS - startIndex + 1)) {
      throw new Error(`page at ${startIndex}: totalResults ${body.totalResults}, startIndex ${body.startIndex}, ${body.Resources?.length} resources`);
    }
    for (const user of body.Resources as Array<{ id: string }>) seen.add(user.id);
  });
  if (seen.size !== USERS || !userIds.every((id) => seen.has(id))) throw new Error(`the pages held ${seen.size} distinct users, expected ${USERS}`);
  return phase;
}

/** One phase's line, printed as soon as it is measured (a failing later phase keeps the earlier figures). */
function printed(phase: Phase): Phase {
  console.log(`  ${phase.label.padEnd(44)} ${String(phase.ops).padStart(6)} ops ${phase.perSecond.toFixed(0).padStart(6)}/s   p50 ${ms(phase.latency.p50)}   p99 ${ms(phase.latency.p99)}`);
  return phase;
}

function report(database: BenchDatabase, baseline: Phase, phases: Phase[], seconds: number): void {
  const [creates, , grow, shrink, lookups, pages] = phases as [Phase, Phase, Phase, Phase, Phase, Phase];
  const patchP99 = Math.max(grow.latency.p99, shrink.latency.p99);
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const targets = {
    creates: creates.perSecond >= TARGET.createsPerSecond,
    patch: patchP99 < TARGET.patchP99Ms,
    lookup: lookups.latency.p99 < TARGET.lookupP99Ms,
    page: pages.latency.p99 < TARGET.pageP99Ms,
  };
  console.log(`  (${seconds.toFixed(1)} s in all)`);
  console.log(`  ratio user creates / baseline INSERTs: ${(creates.perSecond / baseline.perSecond).toFixed(3)}`);
  console.log(`  target user creates >= ${TARGET.createsPerSecond}/s: ${verdict(targets.creates)} (${creates.perSecond.toFixed(0)}/s)`);
  console.log(`  target ${PATCH_SIZE}-member PATCH p99 < ${TARGET.patchP99Ms} ms (add and remove): ${verdict(targets.patch)} (${ms(patchP99)})`);
  console.log(`  target userName eq p99 < ${TARGET.lookupP99Ms} ms: ${verdict(targets.lookup)} (${ms(lookups.latency.p99)})`);
  console.log(`  target page of ${PAGE_SIZE} p99 < ${TARGET.pageP99Ms} ms: ${verdict(targets.page)} (${ms(pages.latency.p99)})`);
  console.log(`  ANALYZE after the creates and after the PATCHes (not timed), as autovacuum would in a live system`);
  console.log(`  checked: every create's answer, ${GROUP_SIZE - REMOVED} members left (exactly the expected ones), each lookup finds exactly its user, the pages hold all ${USERS} users with totalResults ${USERS}`);
  const r = (p: Phase) => ({ label: p.label, ops: p.ops, perSecond: round(p.perSecond, 1), p50: round(p.latency.p50), p99: round(p.latency.p99) });
  console.log(JSON.stringify({
    bench: 'scim', database: database.kind, concurrency: CONCURRENCY, unit: 'ms', baseline: r(baseline), phases: phases.map(r),
    ratio: { createsToInserts: round(creates.perSecond / baseline.perSecond) }, targets: { ...TARGET, met: targets },
  }));
}

export async function scimBench(): Promise<void> {
  const database = await provisionDatabase();
  if (!database.url) {
    console.log(`scim bench skipped: it needs PostgreSQL (${database.description})`);
    return;
  }
  let t: TestApp | undefined;
  try {
    const started = performance.now();
    t = await startApp({ DATABASE_URL: database.url });
    console.log(`scim bench on ${database.description}: ${CONCURRENCY} concurrent requests`);
    const baseline = printed(await baselineInserts(database.url));
    const scim = await setUpDirectory(t);
    const userIds: string[] = [];
    const groupIds: string[] = [];
    const phases = (await provision(scim, userIds, groupIds)).map(printed);
    await analyze(database.url);
    phases.push(...(await growAndShrink(scim, groupIds[0]!, userIds)).map(printed));
    await analyze(database.url);
    phases.push(printed(await lookUp(scim, userIds)));
    phases.push(printed(await walkPages(scim, userIds)));
    report(database, baseline, phases, (performance.now() - started) / 1000);
  } finally {
    await t?.close();
    await database.drop();
  }
}
