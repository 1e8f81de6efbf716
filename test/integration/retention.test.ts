import pg from 'pg';
import pino from 'pino';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { asDatabaseOwner } from '../helpers/superuser.ts';
import { recordAudit } from '../../src/modules/audit/audit.recorder.ts';
import { verifyChain } from '../../src/modules/audit/audit-verify.ts';
import { RetentionJob } from '../../src/modules/billing/retention.job.ts';
import { OrgScope } from '../../src/modules/scope.ts';

// The team plan keeps 30 days of audit events (config/plans.example.yaml).
let t: TestApp;

beforeAll(async () => {
  // No downgrade delay here (the delay has its own tests below): a first run prunes at once.
  t = await startApp({ GATEHOUSE_DEFAULT_PLAN: 'team', GATEHOUSE_RETENTION_DOWNGRADE_DAYS: '0' });
});

afterAll(async () => {
  await t?.close();
});

const meta = { ip: null, userAgent: 'retention test', requestId: null };

/** An org (createOrg writes 3 events) with `extra` more events. */
async function orgWithEvents(app: TestApp, extra: number): Promise<TestOrg> {
  const o = await createOrg(app);
  await app.db.inOrg(o.orgId, async (em) => {
    const scope = new OrgScope(o.orgId, em, null, meta);
    for (let i = 0; i < extra; i++) await recordAudit(scope, { type: 'test.event', after: { i } });
  });
  return o;
}

/** Makes events 1..throughSeq look `days` old (as the owner: the service cannot edit the trail). */
async function backdate(app: TestApp, orgId: string, throughSeq: number, days = 40): Promise<void> {
  await asDatabaseOwner(app, [[
    `UPDATE audit_events SET occurred_at = now() - make_interval(days => ?) WHERE org_id = ? AND seq <= ?`,
    [days, orgId, throughSeq],
  ]]);
}

interface Row { seq: number; type: string; hash: string; prev_hash: string; after: Record<string, any> | null }

async function events(app: TestApp, orgId: string): Promise<Row[]> {
  const rows = await app.db.inOrg(orgId, (em) => em.execute<Row[]>('SELECT seq, type, hash, prev_hash, after FROM audit_events ORDER BY seq'));
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

async function checkpoint(app: TestApp, orgId: string) {
  const rows = await app.db.inOrg(orgId, (em) => em.execute<Array<{ seq: string; hash: string; deleted_count: string }>>(
    'SELECT seq, hash, deleted_count FROM audit_checkpoints'));
  return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, deletedCount: Number(r.deleted_count) }));
}

/** What is left of an org's trail, read as the owner (the org and its RLS scope are gone). */
async function asOwnerCount(app: TestApp, orgId: string) {
  const sql = `SELECT (SELECT count(*) FROM audit_events WHERE org_id = $1) AS events,
    (SELECT count(*) FROM audit_checkpoints WHERE org_id = $1) AS checkpoints`;
  let row: { events: string; checkpoints: string };
  if (process.env.TEST_DATABASE_URL) {
    const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await client.connect();
    try {
      row = (await client.query(sql, [orgId])).rows[0];
    } finally {
      await client.end();
    }
  } else {
    row = await app.db.orm.em.fork({ clear: true }).transactional(async (tx) => {
      await tx.execute('SET LOCAL ROLE NONE');
      return (await tx.execute(sql.replaceAll('$1', '?'), [orgId, orgId]))[0] as typeof row;
    });
  }
  return { events: Number(row.events), checkpoints: Number(row.checkpoints) };
}

/** The API's verify and the CLI's (one transaction per page) must agree. */
async function verify(app: TestApp, o: TestOrg) {
  const res = await o.owner.api('GET', `/api/v1/orgs/${o.orgId}/audit-events/verify`);
  expect(res.status).toBe(200);
  expect(await verifyChain(app.db, o.orgId, 2)).toEqual(res.body);
  return res.body;
}

function job(app: TestApp, batchSize: number, billing = false, downgradeDays = 0) {
  return new RetentionJob({ db: app.db, logger: pino({ level: 'silent' }), plans: app.app.services.plans, billing, batchSize, downgradeDays });
}

describe('retention', () => {
  test('events older than the plan keeps are deleted, recent ones kept, and the chain still verifies', async () => {
    const o = await orgWithEvents(t, 10);
    await backdate(t, o.orgId, 8);
    const before = await events(t, o.orgId);

    const result = await t.app.retention.runOnce();
    expect(result.deleted).toBeGreaterThanOrEqual(8);

    const after = await events(t, o.orgId);
    expect(after.map((e) => e.seq)).toEqual([9, 10, 11, 12, 13, 14]);
    expect(after.slice(0, 5)).toEqual(before.slice(8));
    // the run is audited in the org, at the end of the chain
    const applied = after.at(-1)!;
    expect(applied.type).toBe('audit.retention_applied');
    expect(applied.after).toMatchObject({ deleted: 8, throughSeq: 8 });
    const cutoff = Date.parse(applied.after!.before);
    expect(Math.abs(cutoff - (Date.now() - 30 * 86_400_000))).toBeLessThan(60_000);
    // the checkpoint is the last deleted event, and the first kept one links to it
    expect(await checkpoint(t, o.orgId)).toEqual([{ seq: 8, hash: before[7]!.hash, deletedCount: 8 }]);
    expect(after[0]!.prev_hash).toBe(before[7]!.hash);

    expect(await verify(t, o)).toEqual({ intact: true, eventsChecked: 6, brokenAt: null });
    // the chain goes on: a later change links to the retention event and still verifies
    const renamed = await o.owner.api('PATCH', `/api/v1/orgs/${o.orgId}`, { name: 'Renamed after retention' });
    expect(renamed.status).toBe(200);
    expect(await verify(t, o)).toEqual({ intact: true, eventsChecked: 7, brokenAt: null });
  });

  test('a second run deletes nothing more and writes no event', async () => {
    const o = await orgWithEvents(t, 2);
    await backdate(t, o.orgId, 3);
    await t.app.retention.runOnce();
    const once = await events(t, o.orgId);
    await t.app.retention.runOnce();
    expect(await events(t, o.orgId)).toEqual(once);
  });

  test('only a prefix goes: an old event after a recent one is kept', async () => {
    const o = await orgWithEvents(t, 5);
    await backdate(t, o.orgId, 2);
    // seq 5 is old too, but seq 3 and 4 are not: deleting 5 would cut the chain in the middle
    await asDatabaseOwner(t, [[`UPDATE audit_events SET occurred_at = now() - interval '40 days' WHERE org_id = ? AND seq = 5`, [o.orgId]]]);
    await job(t, 100).runOnce();
    const after = await events(t, o.orgId);
    expect(after.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(after.at(-1)!.after).toMatchObject({ deleted: 2, throughSeq: 2 });
  });

  test('deleting an org still removes its whole trail (the cascade is not the service deleting)', async () => {
    const o = await orgWithEvents(t, 3);
    await backdate(t, o.orgId, 2);
    await job(t, 100).runOnce();
    const res = await o.owner.api('DELETE', `/api/v1/orgs/${o.orgId}`);
    expect(res.status).toBe(204);
    const left = await asOwnerCount(t, o.orgId);
    expect(left).toEqual({ events: 0, checkpoints: 0 });
  });

  test('an org with nothing old gets no checkpoint and no event', async () => {
    const o = await orgWithEvents(t, 2);
    const before = await events(t, o.orgId);
    await t.app.retention.runOnce();
    expect(await events(t, o.orgId)).toEqual(before);
    expect(await checkpoint(t, o.orgId)).toEqual([]);
  });

  test('more old events than one batch: every batch goes, each with its checkpoint and event', async () => {
    const o = await orgWithEvents(t, 20);
    await backdate(t, o.orgId, 23);
    const result = await job(t, 5).runOnce();
    expect(result.deleted).toBeGreaterThanOrEqual(23);
    const after = await events(t, o.orgId);
    expect(after.every((e) => e.type === 'audit.retention_applied')).toBe(true);
    expect(after.map((e) => e.after!.deleted)).toEqual([5, 5, 5, 5, 3]);
    expect(after.map((e) => e.seq)).toEqual([24, 25, 26, 27, 28]);
    expect(await checkpoint(t, o.orgId)).toEqual([{ seq: 23, hash: after[0]!.prev_hash, deletedCount: 23 }]);
    expect(await verify(t, o)).toEqual({ intact: true, eventsChecked: 5, brokenAt: null });
  });

  test('two nodes running at once delete each event once and keep the chain whole', async () => {
    const o = await orgWithEvents(t, 17);
    await backdate(t, o.orgId, 20);
    await Promise.all([job(t, 4).runOnce(), job(t, 4).runOnce()]);
    const after = await events(t, o.orgId);
    expect(after.every((e) => e.type === 'audit.retention_applied')).toBe(true);
    expect(after.reduce((n, e) => n + e.after!.deleted, 0)).toBe(20);
    expect((await checkpoint(t, o.orgId))[0]).toMatchObject({ seq: 20, deletedCount: 20 });
    expect((await verify(t, o)).intact).toBe(true);
  });
});

describe('tampering after retention', () => {
  async function retained(): Promise<TestOrg> {
    const o = await orgWithEvents(t, 10);
    await backdate(t, o.orgId, 5);
    await job(t, 100).runOnce();
    expect((await events(t, o.orgId)).map((e) => e.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14]);
    return o;
  }

  test('an event deleted by hand in the middle is still missing_event', async () => {
    const o = await retained();
    await asDatabaseOwner(t, [['DELETE FROM audit_events WHERE org_id = ? AND seq = 9', [o.orgId]]]);
    expect(await verify(t, o)).toEqual({ intact: false, eventsChecked: 3, brokenAt: { seq: 9, eventId: null, reason: 'missing_event' } });
  });

  test('the first kept event deleted by hand (past the checkpoint) is missing_event', async () => {
    const o = await retained();
    await asDatabaseOwner(t, [['DELETE FROM audit_events WHERE org_id = ? AND seq = 6', [o.orgId]]]);
    expect(await verify(t, o)).toEqual({ intact: false, eventsChecked: 0, brokenAt: { seq: 6, eventId: null, reason: 'missing_event' } });
  });

  test('a forged first kept event (edited prev_hash) does not link to the checkpoint', async () => {
    const o = await retained();
    await asDatabaseOwner(t, [[`UPDATE audit_events SET prev_hash = repeat('0', 64) WHERE org_id = ? AND seq = 6`, [o.orgId]]]);
    const report = await verify(t, o);
    expect(report).toMatchObject({ intact: false, eventsChecked: 0, brokenAt: { seq: 6, reason: 'link_broken' } });
  });

  test('an event left below the checkpoint is reported', async () => {
    const o = await retained();
    // a checkpoint further on than the deletions (as if someone moved it to hide events)
    await asDatabaseOwner(t, [['UPDATE audit_checkpoints SET seq = 7 WHERE org_id = ?', [o.orgId]]]);
    expect(await verify(t, o)).toMatchObject({ intact: false, eventsChecked: 0, brokenAt: { seq: 6, reason: 'link_broken' } });
  });

  test('the service cannot delete an event no checkpoint covers', async () => {
    const o = await retained();
    const attempt = t.db.inOrg(o.orgId, (em) => em.execute('DELETE FROM audit_events WHERE seq = 9'));
    await expect(attempt).rejects.toThrow(/not covered by a retention checkpoint/);
    expect((await events(t, o.orgId)).map((e) => e.seq)).toContain(9);
    expect((await verify(t, o)).intact).toBe(true);
  });

  test('the service cannot move a checkpoint back', async () => {
    const o = await retained();
    const attempt = t.db.inOrg(o.orgId, (em) => em.execute('UPDATE audit_checkpoints SET seq = 1'));
    await expect(attempt).rejects.toThrow(/only moves forward/);
    expect((await checkpoint(t, o.orgId))[0]!.seq).toBe(5);
  });
});

describe('M2: a checkpoint cannot be used to delete the trail', () => {
  const head = (o: TestOrg) => t.db.inOrg(o.orgId, async (em) => {
    const [row] = await em.execute<Array<{ seq: string; hash: string }>>('SELECT seq, hash FROM audit_chain_heads');
    return { seq: Number(row!.seq), hash: row!.hash };
  });
  const upsert = `INSERT INTO audit_checkpoints (org_id, seq, hash) VALUES (?, ?, ?)
    ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`;

  test('M2: the service cannot upsert a checkpoint at the head and delete every event', async () => {
    const o = await orgWithEvents(t, 4);
    const before = await events(t, o.orgId);
    const { seq, hash } = await head(o);
    const attempt = t.db.inOrg(o.orgId, async (em) => {
      await em.execute(upsert, [o.orgId, seq, hash]);
      await em.execute('DELETE FROM audit_events WHERE seq <= ?', [seq]);
    });
    await expect(attempt).rejects.toThrow(/may not cover the newest event/);
    expect(await events(t, o.orgId)).toEqual(before);
    expect(await checkpoint(t, o.orgId)).toEqual([]);
    expect(await verify(t, o)).toEqual({ intact: true, eventsChecked: 7, brokenAt: null });
  });

  test('M2: after retention too, the service cannot move the checkpoint to the head', async () => {
    const o = await orgWithEvents(t, 10);
    await backdate(t, o.orgId, 5);
    await job(t, 100).runOnce();
    const before = await events(t, o.orgId);
    const { seq, hash } = await head(o);
    const attempt = t.db.inOrg(o.orgId, (em) => em.execute('UPDATE audit_checkpoints SET seq = ?, hash = ?', [seq, hash]));
    await expect(attempt).rejects.toThrow(/may not cover the newest event/);
    expect(await events(t, o.orgId)).toEqual(before);
    expect((await checkpoint(t, o.orgId))[0]!.seq).toBe(5);
  });

  test('M2: the service cannot set a checkpoint whose hash is not its event\'s', async () => {
    const o = await orgWithEvents(t, 4);
    const attempt = t.db.inOrg(o.orgId, (em) => em.execute(upsert, [o.orgId, 3, 'f'.repeat(64)]));
    await expect(attempt).rejects.toThrow(/must name a stored event/);
    expect(await checkpoint(t, o.orgId)).toEqual([]);
  });

  test('M2: a checkpoint moved to the head and every event deleted (as the database owner) is checkpoint_unexplained', async () => {
    const o = await orgWithEvents(t, 4);
    const { seq, hash } = await head(o);
    await asDatabaseOwner(t, [
      [upsert, [o.orgId, seq, hash]],
      ['DELETE FROM audit_events WHERE org_id = ?', [o.orgId]],
    ]);
    expect(await verify(t, o)).toEqual({ intact: false, eventsChecked: 0, brokenAt: { seq, eventId: null, reason: 'checkpoint_unexplained' } });
  });

  test('M2: a prefix deleted under a checkpoint no retention event names is checkpoint_unexplained', async () => {
    const o = await orgWithEvents(t, 4);
    const third = (await events(t, o.orgId))[2]!;
    await t.db.inOrg(o.orgId, async (em) => {
      await em.execute(upsert, [o.orgId, third.seq, third.hash]);
      await em.execute('DELETE FROM audit_events WHERE seq <= ?', [third.seq]);
    });
    expect(await verify(t, o)).toEqual({ intact: false, eventsChecked: 4, brokenAt: { seq: 3, eventId: null, reason: 'checkpoint_unexplained' } });
  });
});

describe('the plan decides', () => {
  let billed: TestApp;

  beforeAll(async () => {
    // billing on (the SDK is never called here): each org's own plan, free without a subscription
    billed = await startApp({
      STRIPE_SECRET_KEY: 'sk_test_retention', STRIPE_WEBHOOK_SECRET: 'whsec_retention', STRIPE_API_BASE: 'http://127.0.0.1:9',
      GATEHOUSE_RETENTION_DOWNGRADE_DAYS: '0',
    });
  });

  afterAll(async () => {
    await billed?.close();
  });

  test('a plan with null retention keeps everything; another org on a plan with retention is pruned', async () => {
    const kept = await orgWithEvents(billed, 3);
    const pruned = await orgWithEvents(billed, 3);
    await asDatabaseOwner(billed, [[`INSERT INTO org_billing (org_id, plan, status) VALUES (?, 'enterprise', 'active')`, [kept.orgId]]]);
    await backdate(billed, kept.orgId, 6, 4000);
    await backdate(billed, pruned.orgId, 6, 8); // free keeps 7 days
    const keptBefore = await events(billed, kept.orgId);

    await job(billed, 100, true).runOnce();

    expect(await events(billed, kept.orgId)).toEqual(keptBefore);
    expect(await checkpoint(billed, kept.orgId)).toEqual([]);
    expect((await events(billed, pruned.orgId)).map((e) => e.type)).toEqual(['audit.retention_applied']);
    expect((await verify(billed, pruned)).intact).toBe(true);
  });

  test('billing off: the self-hosted plan (enterprise by default) keeps everything', async () => {
    const selfHosted = await startApp();
    try {
      const o = await orgWithEvents(selfHosted, 2);
      await backdate(selfHosted, o.orgId, 5, 4000);
      const before = await events(selfHosted, o.orgId);
      await selfHosted.app.retention.runOnce();
      expect(await events(selfHosted, o.orgId)).toEqual(before);
    } finally {
      await selfHosted.close();
    }
  });
});

describe('M3: a shorter retention waits GATEHOUSE_RETENTION_DOWNGRADE_DAYS', () => {
  let billed: TestApp;

  beforeAll(async () => {
    billed = await startApp({ STRIPE_SECRET_KEY: 'sk_test_retention', STRIPE_WEBHOOK_SECRET: 'whsec_retention', STRIPE_API_BASE: 'http://127.0.0.1:9' });
  });

  afterAll(async () => {
    await billed?.close();
  });

  /** Every retention the org held is made to look last held `days` ago (time passing). */
  const age = (o: TestOrg, days: number) => asDatabaseOwner(billed, [[
    `UPDATE audit_retention_holds SET held = (SELECT jsonb_object_agg(key, to_jsonb(now() - make_interval(days => ?))) FROM jsonb_each(held))
      WHERE org_id = ?`, [days, o.orgId]]]);

  test('M3: an org downgraded today keeps its 40-day-old events; once the delay has passed they go', async () => {
    const o = await orgWithEvents(billed, 3);
    await asDatabaseOwner(billed, [[`INSERT INTO org_billing (org_id, plan, status) VALUES (?, 'enterprise', 'active')`, [o.orgId]]]);
    await backdate(billed, o.orgId, 6);
    expect((await billed.app.retention.runOnce()).deleted).toBe(0); // enterprise keeps everything: seen held
    // the subscription ends today: the org is on free (7 days)
    await asDatabaseOwner(billed, [[`UPDATE org_billing SET status = 'canceled' WHERE org_id = ?`, [o.orgId]]]);
    const before = await events(billed, o.orgId);
    await billed.app.retention.runOnce();
    await age(o, 29);
    await billed.app.retention.runOnce();
    expect(await events(billed, o.orgId)).toEqual(before);
    expect(await checkpoint(billed, o.orgId)).toEqual([]);

    await age(o, 31);
    await billed.app.retention.runOnce();
    expect((await events(billed, o.orgId)).map((e) => e.type)).toEqual(['audit.retention_applied']);
    expect((await verify(billed, o)).intact).toBe(true);
  });

  test('M3: an org the job has never seen (billing just turned on) is not pruned before the delay', async () => {
    const o = await orgWithEvents(billed, 2);
    await backdate(billed, o.orgId, 5);
    const before = await events(billed, o.orgId);
    await billed.app.retention.runOnce();
    expect(await events(billed, o.orgId)).toEqual(before);
  });
});
