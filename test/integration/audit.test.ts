import { startApp, type Client, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestMember, type TestOrg } from '../helpers/factories.ts';
import { asDatabaseOwner } from '../helpers/superuser.ts';
import { chainHash } from '../../src/modules/audit/audit-chain.ts';
import { recordAudit } from '../../src/modules/audit/audit.recorder.ts';
import { verifyChain } from '../../src/modules/audit/audit-verify.ts';
import { OrgScope } from '../../src/modules/scope.ts';

interface View {
  id: string;
  seq: number;
  type: string;
  actor: { type: string; id: string | null };
  target: { type: string; id: string | null } | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  before: Record<string, any> | null;
  after: Record<string, any> | null;
  occurredAt: string;
  hash: string;
  prevHash: string;
}

const originalName = 'Acme Original';
const trickyName = 'Acme, "Quoted"\nSecond line';
const trickyAgent = 'audit-test/1.0 (rename, "quoted")';
const formulaAgent = '=HYPERLINK("http://evil.example","click")';

let t: TestApp;
let org: TestOrg;
let api: Client;
let base: string;
let ownerKeyId: string;
let viewer: TestMember;
let member: TestMember;
let admin: TestMember;
let ciKey: { id: string; key: string };
const secrets: string[] = [];

const keyIdOf = (key: string) => key.split('_')[1]!;
const secretOf = (key: string) => key.split('_')[2]!;

const bulkEvents = 1100;
let big: TestOrg;

/**
 * A trail longer than an export page (500) and a verify page (1000), written straight through
 * the recorder. It runs before any HTTP call: embedded PGlite works on the event loop's thread,
 * and a client's idle keep-alive socket can be closed under it by the server meanwhile.
 */
async function bulkOrg(): Promise<TestOrg> {
  const o = await createOrg(t);
  await t.db.inOrg(o.orgId, async (em) => {
    const scope = new OrgScope(o.orgId, em, null, { ip: null, userAgent: 'bulk', requestId: null });
    for (let i = 0; i < bulkEvents; i++) await recordAudit(scope, { type: 'test.bulk', after: { i, note: 'a, "b"\nc' } });
  });
  return o;
}

beforeAll(async () => {
  t = await startApp();
  big = await bulkOrg();
  org = await createOrg(t, originalName);
  api = org.owner.api;
  base = `/api/v1/orgs/${org.orgId}`;
  ownerKeyId = keyIdOf(org.owner.key);
  member = await addMember(t, org.orgId, 'member');
  admin = await addMember(t, org.orgId, 'admin');
  viewer = await addMember(t, org.orgId, 'viewer');

  const renamed = await api('PATCH', base, { name: trickyName }, { 'x-request-id': 'req-rename-1', 'user-agent': trickyAgent });
  expect(renamed.status).toBe(200);
  const created = await api('POST', `${base}/api-keys`, { name: 'ci', role: 'member' }, { 'x-request-id': 'req-key-1' });
  expect(created.status).toBe(201);
  ciKey = { id: created.body.id, key: created.body.key };
  const changed = await api('PATCH', `${base}/members/${viewer.userId}`, { role: 'member' }, { 'x-request-id': 'req-role-1', 'user-agent': formulaAgent });
  expect(changed.status).toBe(204);
  secrets.push(...[org.owner.key, member.key, admin.key, viewer.key, ciKey.key].map(secretOf));
}, 120_000);
afterAll(() => t.close());

/** Every event of the main org, newest first, in one page. */
async function allEvents(client: Client = api, orgBase = base): Promise<View[]> {
  const res = await client('GET', `${orgBase}/audit-events?limit=200`);
  expect(res.status).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  return res.body.data;
}

async function list(query: string): Promise<View[]> {
  const res = await api('GET', `${base}/audit-events?${query}`);
  expect(res.status).toBe(200);
  return res.body.data;
}

function expectProblem(res: { status: number; body: any; headers: Headers }, status: number, field?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  if (field) expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
}

/** RFC 4180, written independently of the exporter. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

function parseJsonl(text: string): View[] {
  expect(text.endsWith('\n')).toBe(true);
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

describe('events written by API actions', () => {
  test('an org rename records actor, target, request id, ip, user agent, before and after', async () => {
    const [e, ...rest] = await list('type=org.updated');
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      type: 'org.updated',
      actor: { type: 'api_key', id: ownerKeyId },
      target: { type: 'org', id: org.orgId },
      requestId: 'req-rename-1',
      userAgent: trickyAgent,
      before: { id: org.orgId, name: originalName },
      after: { id: org.orgId, name: trickyName },
    });
    expect(e!.ip).toMatch(/127\.0\.0\.1$/);
    expect(e!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(e!.occurredAt).toISOString()).toBe(e!.occurredAt);
  });

  test('api_key.created records the key but never its secret', async () => {
    const events = await list(`targetId=${ciKey.id}`);
    expect(events.map((e) => e.type)).toEqual(['api_key.created']);
    expect(events[0]).toMatchObject({
      actor: { type: 'api_key', id: ownerKeyId },
      target: { type: 'api_key', id: ciKey.id },
      requestId: 'req-key-1',
      before: null,
      after: { id: ciKey.id, name: 'ci', role: 'member', createdBy: org.owner.userId, revokedAt: null },
    });
    const text = JSON.stringify(events);
    expect(text).not.toContain(secretOf(ciKey.key));
    expect(text).not.toContain('gh_');
  });

  test('a member role change records the member as target with the old and new role', async () => {
    const events = await list(`targetId=${viewer.userId}`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'member.role_changed',
      actor: { type: 'api_key', id: ownerKeyId },
      target: { type: 'user', id: viewer.userId },
      requestId: 'req-role-1',
      userAgent: formulaAgent,
      before: { userId: viewer.userId, role: 'viewer', source: 'invite' },
      after: { userId: viewer.userId, role: 'member', source: 'invite' },
    });
  });

  test('an unusable X-Request-Id is replaced, and the event records the id the response carries', async () => {
    const o = await createOrg(t);
    const oBase = `/api/v1/orgs/${o.orgId}`;
    const res = await o.owner.api('PATCH', oBase, { name: 'Renamed' }, { 'x-request-id': 'not a usable id' });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const [e] = (await o.owner.api('GET', `${oBase}/audit-events?type=org.updated`)).body.data;
    expect(e.requestId).toBe(requestId);
  });
});

describe('listing and filters', () => {
  test('lists newest first with contiguous seqs and linked hashes', async () => {
    const events = await allEvents();
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_s, i) => events.length - i));
    for (let i = 0; i < events.length - 1; i++) expect(events[i]!.prevHash).toBe(events[i + 1]!.hash);
    expect(events.at(-1)).toMatchObject({ seq: 1, type: 'org.created', actor: { type: 'system', id: null }, prevHash: '0'.repeat(64) });
  });

  test('filters by exact type', async () => {
    const all = await allEvents();
    const keys = await list('type=api_key.created&limit=200');
    expect(keys.length).toBeGreaterThanOrEqual(5);
    expect(keys.map((e) => e.seq)).toEqual(all.filter((e) => e.type === 'api_key.created').map((e) => e.seq));
  });

  test('filters by type prefix', async () => {
    const all = await allEvents();
    const members = await list('type=member.*&limit=200');
    expect(new Set(members.map((e) => e.type))).toEqual(new Set(['member.joined', 'member.role_changed']));
    expect(members.map((e) => e.seq)).toEqual(all.filter((e) => e.type.startsWith('member.')).map((e) => e.seq));
    expect(await list('type=member.role_changed')).toHaveLength(1);
    expect(await list('type=mem.*')).toEqual([]);
    expect(await list('type=api_key.*&limit=200')).toHaveLength(all.filter((e) => e.type.startsWith('api_key.')).length);
  });

  test('filters by actor', async () => {
    const all = await allEvents();
    const mine = await list(`actorId=${ownerKeyId}&limit=200`);
    expect(mine.map((e) => e.type)).toEqual(['member.role_changed', 'api_key.created', 'org.updated']);
    expect(mine.map((e) => e.seq)).toEqual(all.filter((e) => e.actor.id === ownerKeyId).map((e) => e.seq));
  });

  test('filters by target and combines filters', async () => {
    expect((await list(`targetId=${org.orgId}&limit=200`)).map((e) => e.type)).toEqual(['org.updated', 'org.created']);
    const combined = await list(`type=api_key.created&actorId=${ownerKeyId}`);
    expect(combined.map((e) => e.target?.id)).toEqual([ciKey.id]);
    expect(await list(`type=org.updated&targetId=${viewer.userId}`)).toEqual([]);
  });

  test('filters by a time range: since inclusive, until exclusive', async () => {
    const oldestFirst = (await allEvents()).reverse();
    const since = oldestFirst[3]!.occurredAt;
    const until = oldestFirst.at(-1)!.occurredAt;
    const inRange = (e: View) => new Date(e.occurredAt) >= new Date(since) && new Date(e.occurredAt) < new Date(until);
    const expected = oldestFirst.filter(inRange).map((e) => e.seq).reverse();
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(oldestFirst.length);
    expect((await list(`since=${since}&until=${until}&limit=200`)).map((e) => e.seq)).toEqual(expected);
    expect((await list(`since=${since}&limit=200`)).every((e) => new Date(e.occurredAt) >= new Date(since))).toBe(true);
    expect((await list(`until=${since}&limit=200`)).every((e) => new Date(e.occurredAt) < new Date(since))).toBe(true);
  });

  test('accepts a time with an offset as the same instant', async () => {
    const oldestFirst = (await allEvents()).reverse();
    const since = new Date(oldestFirst[3]!.occurredAt);
    const shifted = new Date(since.getTime() + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    expect(await list(`since=${encodeURIComponent(shifted)}&limit=200`)).toEqual(await list(`since=${since.toISOString()}&limit=200`));
    expect(await list(`since=${new Date(Date.now() + 86_400_000).toISOString()}`)).toEqual([]);
  });

  test('cursor pages walk every event once, newest first', async () => {
    const all = await allEvents();
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await api('GET', `${base}/audit-events?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((e: View) => e.seq));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.seq));
    expect(pages).toBe(Math.ceil(all.length / 2));
  });

  test('cursor pages keep the filter', async () => {
    const expected = (await list('type=api_key.created&limit=200')).map((e) => e.seq);
    const first = await api('GET', `${base}/audit-events?type=api_key.created&limit=3`);
    const second = await api('GET', `${base}/audit-events?type=api_key.created&limit=3&cursor=${first.body.nextCursor}`);
    expect([...first.body.data, ...second.body.data].map((e: View) => e.seq)).toEqual(expected.slice(0, 6));
  });
});

describe('export', () => {
  test('JSON lines: every event oldest first, as the list shows them', async () => {
    const res = await api('GET', `${base}/audit-events?format=jsonl`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="audit-events-${org.orgId}-\\d{8}T\\d{6}Z\\.jsonl"$`));
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(parseJsonl(res.text)).toEqual((await allEvents()).reverse());
  });

  test('the export honours the filters', async () => {
    const res = await api('GET', `${base}/audit-events?format=jsonl&type=member.*`);
    expect(res.status).toBe(200);
    const events = parseJsonl(res.text);
    expect(events.map((e) => e.type)).toEqual(['member.joined', 'member.role_changed']);
    const byActor = parseJsonl((await api('GET', `${base}/audit-events?format=jsonl&actorId=${ownerKeyId}`)).text);
    expect(byActor.map((e) => e.type)).toEqual(['org.updated', 'api_key.created', 'member.role_changed']);
  });

  test('CSV: escaped quotes, commas and newlines parse back to the same events', async () => {
    const res = await api('GET', `${base}/audit-events?format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/filename="audit-events-.*\.csv"$/);
    const [header, ...rows] = parseCsv(res.text);
    expect(header).toEqual(['id', 'seq', 'type', 'actorType', 'actorId', 'targetType', 'targetId', 'ip', 'userAgent', 'requestId', 'before', 'after', 'occurredAt', 'prevHash', 'hash']);
    const expected = (await allEvents()).reverse();
    expect(rows).toHaveLength(expected.length);
    rows.forEach((cells, i) => {
      const row = Object.fromEntries(header!.map((h, j) => [h, cells[j]]));
      const e = expected[i]!;
      expect(cells).toHaveLength(header!.length);
      expect(row).toMatchObject({
        id: e.id, seq: String(e.seq), type: e.type, actorType: e.actor.type, actorId: e.actor.id ?? '',
        targetType: e.target?.type ?? '', targetId: e.target?.id ?? '', ip: e.ip ?? '', requestId: e.requestId ?? '',
        occurredAt: e.occurredAt, prevHash: e.prevHash, hash: e.hash,
      });
      expect(row.before ? JSON.parse(row.before) : null).toEqual(e.before);
      expect(row.after ? JSON.parse(row.after) : null).toEqual(e.after);
      // a cell a spreadsheet would run as a formula is defused with a leading quote
      expect(row.userAgent).toBe(e.userAgent === formulaAgent ? `'${formulaAgent}` : (e.userAgent ?? ''));
    });
    const rename = rows.map((cells) => Object.fromEntries(header!.map((h, j) => [h, cells[j]]))).find((r) => r.type === 'org.updated')!;
    expect(rename.userAgent).toBe(trickyAgent);
    expect(JSON.parse(rename.after!).name).toBe(trickyName);
  });

  test('no API key token or secret appears anywhere in either export', async () => {
    for (const format of ['jsonl', 'csv']) {
      const { text } = await api('GET', `${base}/audit-events?format=${format}`);
      expect(text.length).toBeGreaterThan(100);
      expect(text).not.toContain('gh_');
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  test('a trail longer than a page streams completely, in order', async () => {
    const bigBase = `/api/v1/orgs/${big.orgId}`;
    const jsonl = parseJsonl((await big.owner.api('GET', `${bigBase}/audit-events?format=jsonl`)).text);
    expect(jsonl.map((e) => e.seq)).toEqual(Array.from({ length: bulkEvents + 3 }, (_v, i) => i + 1));
    expect(jsonl.filter((e) => e.type === 'test.bulk').map((e) => e.after!.i)).toEqual(Array.from({ length: bulkEvents }, (_v, i) => i));
    const csv = parseCsv((await big.owner.api('GET', `${bigBase}/audit-events?format=csv&type=test.bulk`)).text);
    expect(csv).toHaveLength(bulkEvents + 1);
    expect(csv.slice(1).map((r) => JSON.parse(r[11]!).i)).toEqual(Array.from({ length: bulkEvents }, (_v, i) => i));
    const verify = await big.owner.api('GET', `${bigBase}/audit-events/verify`);
    expect(verify.body).toEqual({ intact: true, eventsChecked: bulkEvents + 3, brokenAt: null });
    expect(await verifyChain(t.db, big.orgId, 500)).toEqual(verify.body);
  });
});

describe('permissions', () => {
  test.each([
    ['a viewer', () => viewer],
    ['a member', () => member],
  ])('%s without audit:read gets 403 from list, export and verify', async (_who, who) => {
    for (const path of ['audit-events', 'audit-events?format=csv', 'audit-events/verify']) {
      const res = await who().api('GET', `${base}/${path}`);
      expectProblem(res, 403);
      expect(res.body.code).toBe('auth.forbidden');
      expect(res.text).not.toContain('org.created');
    }
  });

  test('an admin reads the trail', async () => {
    expect((await admin.api('GET', `${base}/audit-events/verify`)).body.intact).toBe(true);
    expect(await allEvents(admin.api)).toEqual(await allEvents());
  });

  test('another org\'s credential gets 404 and no events', async () => {
    const other = await createOrg(t);
    for (const path of ['audit-events', 'audit-events?format=jsonl', 'audit-events/verify']) {
      const res = await other.owner.api('GET', `${base}/${path}`);
      expectProblem(res, 404);
      expect(res.body.code).toBe('org.not_found');
    }
  });

  test('no credential gets 401', async () => {
    const res = await fetch(`${t.url}${base}/audit-events`);
    expect(res.status).toBe(401);
  });
});

describe('bad input', () => {
  test.each([
    ['since that is not a datetime', 'since=yesterday', 'query.since'],
    ['until that is not a real date', 'until=2025-13-01T00:00:00Z', 'query.until'],
    ['since without a time zone', 'since=2025-01-01T00:00:00', 'query.since'],
    ['a date without a time', 'since=2025-01-01', 'query.since'],
    ['until not after since', 'since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z', 'query.until'],
    ['an unknown query parameter', 'actor=abc', 'query'],
    ['a cursor that is not base64url of a seq', 'cursor=!!nope!!', 'query.cursor'],
    ['a cursor that decodes to text', `cursor=${Buffer.from('abc').toString('base64url')}`, 'query.cursor'],
    ['a cursor of seq 0', `cursor=${Buffer.from('0').toString('base64url')}`, 'query.cursor'],
    ['a limit of 0', 'limit=0', 'query.limit'],
    ['a limit over 200', 'limit=201', 'query.limit'],
    ['a type with capitals', 'type=Org.updated', 'query.type'],
    ['a wildcard not at the end', 'type=org.*.x', 'query.type'],
    ['a bare wildcard', 'type=*', 'query.type'],
    ['a repeated filter', 'type=org.updated&type=org.created', 'query.type'],
    ['an actor id with spaces', 'actorId=a%20b', 'query.actorId'],
  ])('list: %s is a 400 problem', async (_name, query, field) => {
    const res = await api('GET', `${base}/audit-events?${query}`);
    expectProblem(res, 400);
    expect(res.body.code).toBe('request.invalid');
    expect(res.body.errors.some((e: { field: string; message: string }) => e.field === field || (field === 'query' && /unknown field/.test(e.message)))).toBe(true);
  });

  test.each([
    ['an unknown format', 'format=xml', 'query.format'],
    ['a cursor (the export is not paginated)', `format=csv&cursor=${Buffer.from('5').toString('base64url')}`, 'query'],
    ['a limit (the export is not paginated)', 'format=jsonl&limit=10', 'query'],
    ['an invalid since', 'format=jsonl&since=now', 'query.since'],
  ])('export: %s is a 400 problem, not a stream', async (_name, query, field) => {
    const res = await api('GET', `${base}/audit-events?${query}`);
    expectProblem(res, 400);
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(res.body.errors.some((e: { field: string; message: string }) => e.field === field || (field === 'query' && /unknown field/.test(e.message)))).toBe(true);
  });

  test('verify: an unknown query parameter is a 400 problem', async () => {
    expectProblem(await api('GET', `${base}/audit-events/verify?full=1`), 400);
  });
});

describe('verification', () => {
  /** An org whose trail is 1 org.created, 2 member.joined, 3 api_key.created, 4-6 org.updated. */
  async function orgWithHistory(): Promise<{ o: TestOrg; oBase: string; events: View[] }> {
    const o = await createOrg(t);
    const oBase = `/api/v1/orgs/${o.orgId}`;
    for (const name of ['One', 'Two', 'Three']) expect((await o.owner.api('PATCH', oBase, { name })).status).toBe(200);
    const events = (await allEvents(o.owner.api, oBase)).reverse();
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    return { o, oBase, events };
  }

  async function verify(o: TestOrg, oBase: string) {
    const res = await o.owner.api('GET', `${oBase}/audit-events/verify`);
    expect(res.status).toBe(200);
    // the CLI's path (one transaction per page) agrees with the API's
    expect(await verifyChain(t.db, o.orgId, 2)).toEqual(res.body);
    return res.body;
  }

  test('an untouched chain is intact', async () => {
    expect(await verify(org, base)).toEqual({ intact: true, eventsChecked: (await allEvents()).length, brokenAt: null });
  });

  test('the service\'s own role cannot update or delete audit events', async () => {
    const { o, oBase } = await orgWithHistory();
    await expect(t.db.inOrg(o.orgId, (em) => em.execute('UPDATE audit_events SET type = ? WHERE seq = 5', ['org.viewed']))).rejects.toThrow(/permission denied/);
    await expect(t.db.inOrg(o.orgId, (em) => em.execute('DELETE FROM audit_events WHERE seq = 5'))).rejects.toThrow(/permission denied/);
    expect(await verify(o, oBase)).toEqual({ intact: true, eventsChecked: 6, brokenAt: null });
  });

  test('an edited snapshot in the middle is content_changed at that event', async () => {
    const { o, oBase, events } = await orgWithHistory();
    await asDatabaseOwner(t, [[`UPDATE audit_events SET after = jsonb_set(after, '{name}', '"Forged"') WHERE org_id = ? AND seq = 5`, [o.orgId]]]);
    expect((await allEvents(o.owner.api, oBase)).find((e) => e.seq === 5)!.after!.name).toBe('Forged');
    expect(await verify(o, oBase)).toEqual({ intact: false, eventsChecked: 4, brokenAt: { seq: 5, eventId: events[4]!.id, reason: 'content_changed' } });
  });

  test('an edited type is content_changed at that event', async () => {
    const { o, oBase, events } = await orgWithHistory();
    await asDatabaseOwner(t, [['UPDATE audit_events SET type = ? WHERE org_id = ? AND seq = 4', ['org.viewed', o.orgId]]]);
    expect(await verify(o, oBase)).toEqual({ intact: false, eventsChecked: 3, brokenAt: { seq: 4, eventId: events[3]!.id, reason: 'content_changed' } });
  });

  const tamper: Record<string, string> = {
    type: `type = type || '.x'`,
    actor_id: `actor_id = coalesce(actor_id, '') || 'x'`,
    target_id: `target_id = coalesce(target_id, '') || 'x'`,
    ip: `ip = '203.0.113.9'`,
    user_agent: `user_agent = 'forged'`,
    request_id: `request_id = 'forged'`,
    before: `before = coalesce(before, '{}'::jsonb) || '{"x":1}'`,
    after: `after = coalesce(after, '{}'::jsonb) || '{"x":1}'`,
    occurred_at: `occurred_at = occurred_at + interval '1 millisecond'`,
  };

  test.each(Object.keys(tamper))('editing %s of an event breaks the chain at that event', async (column) => {
    const { o, oBase, events } = await orgWithHistory();
    await asDatabaseOwner(t, [[`UPDATE audit_events SET ${tamper[column]} WHERE org_id = ? AND seq = 3`, [o.orgId]]]);
    expect((await verify(o, oBase)).brokenAt).toEqual({ seq: 3, eventId: events[2]!.id, reason: 'content_changed' });
  });

  test.each([1, 2, 3, 4, 5, 6])('editing event #%i, wherever it stands, is reported at that event', async (seq) => {
    const { o, oBase, events } = await orgWithHistory();
    const column = Object.keys(tamper)[seq % Object.keys(tamper).length]!;
    await asDatabaseOwner(t, [[`UPDATE audit_events SET ${tamper[column]} WHERE org_id = ? AND seq = ?`, [o.orgId, seq]]]);
    expect(await verify(o, oBase)).toEqual({ intact: false, eventsChecked: seq - 1, brokenAt: { seq, eventId: events[seq - 1]!.id, reason: 'content_changed' } });
  });

  test('an edit with a recomputed hash breaks the link of the next event', async () => {
    const { o, oBase, events } = await orgWithHistory();
    const e = events[4]!;
    const forgedAfter = { ...e.after, name: 'Forged' };
    const forgedHash = chainHash(e.prevHash, {
      id: e.id, orgId: o.orgId, seq: e.seq, type: e.type, actorType: e.actor.type, actorId: e.actor.id,
      targetType: e.target?.type, targetId: e.target?.id, ip: e.ip, userAgent: e.userAgent, requestId: e.requestId,
      before: e.before, after: forgedAfter, occurredAt: new Date(e.occurredAt),
    });
    await asDatabaseOwner(t, [['UPDATE audit_events SET after = ?::jsonb, hash = ? WHERE org_id = ? AND seq = 5', [JSON.stringify(forgedAfter), forgedHash, o.orgId]]]);
    expect(await verify(o, oBase)).toEqual({ intact: false, eventsChecked: 5, brokenAt: { seq: 6, eventId: events[5]!.id, reason: 'link_broken' } });
  });

  test('a deleted event in the middle is missing_event at its seq', async () => {
    const { o, oBase } = await orgWithHistory();
    await asDatabaseOwner(t, [['DELETE FROM audit_events WHERE org_id = ? AND seq = 3', [o.orgId]]]);
    expect(await verify(o, oBase)).toEqual({ intact: false, eventsChecked: 2, brokenAt: { seq: 3, eventId: null, reason: 'missing_event' } });
  });

  test('a deleted last event is head_mismatch at its seq', async () => {
    const { o, oBase } = await orgWithHistory();
    await asDatabaseOwner(t, [['DELETE FROM audit_events WHERE org_id = ? AND seq = 6', [o.orgId]]]);
    expect(await verify(o, oBase)).toEqual({ intact: false, eventsChecked: 5, brokenAt: { seq: 6, eventId: null, reason: 'head_mismatch' } });
  });

  test('tampering with one org leaves another org\'s chain intact', async () => {
    const { o } = await orgWithHistory();
    await asDatabaseOwner(t, [['DELETE FROM audit_events WHERE org_id = ? AND seq = 2', [o.orgId]]]);
    expect((await verify(org, base)).intact).toBe(true);
  });
});
