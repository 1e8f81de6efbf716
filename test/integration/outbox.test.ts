import { Writable } from 'node:stream';
import pino from 'pino';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';
import { logTransport, type MailTransport, type OutgoingMail } from '../../src/modules/mail/mail-transport.ts';
import { backoff, OutboxDispatcher, type DispatcherOptions } from '../../src/modules/mail/outbox.dispatcher.ts';

let t: TestApp;
let org: TestOrg;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

interface OutboxRow {
  id: string;
  recipient: string;
  subject: string;
  body: string | null;
  status: string;
  attempts: number;
  last_error: string | null;
  available_at: Date;
  sent_at: Date | null;
}

// Raw rows carry timestamps as Date on PGlite but as strings on PostgreSQL: normalize them.
async function outboxOf(recipient: string): Promise<OutboxRow[]> {
  const rows = await t.db.asPlatform((em) => em.execute<OutboxRow[]>('SELECT * FROM outbox_messages WHERE recipient = ? ORDER BY id', [recipient]));
  return rows.map((r) => ({ ...r, available_at: new Date(r.available_at), sent_at: r.sent_at === null ? null : new Date(r.sent_at) }));
}

async function invite(): Promise<{ email: string; acceptUrl: string }> {
  const email = uniqueEmail('mail');
  const res = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email, role: 'member' });
  expect(res.status).toBe(201);
  return { email, acceptUrl: res.body.acceptUrl };
}

/** Records every mail; fails (throws) for the recipients in `failFor`. */
function fakeTransport(failFor: string[] = []): MailTransport & { sent: OutgoingMail[] } {
  const sent: OutgoingMail[] = [];
  return {
    sent,
    async send(mail) {
      if (failFor.includes(mail.to)) throw new Error('550 mailbox unavailable');
      sent.push(mail);
    },
  };
}

// A long round: other test files may have queued mail in a shared database.
function dispatcher(transport: MailTransport, opts: Partial<DispatcherOptions> = {}): OutboxDispatcher {
  return new OutboxDispatcher({ db: t.db, transport, from: 'Gatehouse <test@example.test>', logger: silent, roundSize: 1000, ...opts });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an invitation queues one message in the outbox, carrying the accept link', async () => {
  const { email, acceptUrl } = await invite();
  const rows = await outboxOf(email);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ recipient: email, status: 'pending', attempts: 0, sent_at: null });
  expect(rows[0]!.subject).toMatch(/invited/);
  expect(rows[0]!.body).toContain(acceptUrl);
});

test('a rejected invitation queues no mail', async () => {
  const { email } = await invite();
  const again = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email, role: 'member' });
  expect(again.status).toBe(409);
  expect(await outboxOf(email)).toHaveLength(1);
});

test('the dispatcher sends through its transport, marks the message sent and clears its body', async () => {
  const { email, acceptUrl } = await invite();
  const transport = fakeTransport();
  const result = await dispatcher(transport).drainOnce();
  expect(result.sent).toBeGreaterThanOrEqual(1);
  const mine = transport.sent.filter((m) => m.to === email);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ from: 'Gatehouse <test@example.test>', to: email });
  expect(mine[0]!.text).toContain(acceptUrl);
  const [row] = await outboxOf(email);
  expect(row).toMatchObject({ status: 'sent', body: null, attempts: 1 });
  expect(row!.sent_at).toBeInstanceOf(Date);

  // Sent mail is not sent again.
  await dispatcher(transport).drainOnce();
  expect(transport.sent.filter((m) => m.to === email)).toHaveLength(1);
});

test('a failing transport is retried with backoff, then the message is marked failed', async () => {
  const { email } = await invite();
  const failing = dispatcher(fakeTransport([email]), { maxAttempts: 3, retryDelayMs: () => 0 });
  await failing.drainOnce();
  let [row] = await outboxOf(email);
  expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: '550 mailbox unavailable' });
  expect(row!.body).not.toBeNull();
  await failing.drainOnce();
  await failing.drainOnce();
  [row] = await outboxOf(email);
  expect(row).toMatchObject({ status: 'failed', attempts: 3, body: null, sent_at: null, last_error: '550 mailbox unavailable' });
  // Failed is final.
  const transport = fakeTransport();
  await dispatcher(transport).drainOnce();
  expect(transport.sent.filter((m) => m.to === email)).toHaveLength(0);
});

test('a failed attempt is not retried before its backoff runs out', async () => {
  const { email } = await invite();
  await dispatcher(fakeTransport([email]), { retryDelayMs: () => 60_000 }).drainOnce();
  const [row] = await outboxOf(email);
  expect(row!.available_at.getTime()).toBeGreaterThan(Date.now() + 30_000);
  const transport = fakeTransport();
  await dispatcher(transport).drainOnce();
  expect(transport.sent.filter((m) => m.to === email)).toHaveLength(0);
  expect((await outboxOf(email))[0]).toMatchObject({ status: 'pending', attempts: 1 });
});

describe('leases', () => {
  test('each message is claimed right before its own send: the ones still waiting in a round hold no lease', async () => {
    const mine = [(await invite()).email, (await invite()).email, (await invite()).email];
    const leaseMs = 60_000;
    const seen: Array<{ to: string; rows: Array<{ recipient: string; attempts: number; lease_left_ms: number }> }> = [];
    const transport: MailTransport = {
      async send(mail) {
        if (!mine.includes(mail.to)) return;
        const rows = await t.db.asPlatform((em) => em.execute<Array<{ recipient: string; attempts: number; lease_left_ms: number }>>(
          `SELECT recipient, attempts, (extract(epoch FROM available_at - now()) * 1000)::float8 AS lease_left_ms
             FROM outbox_messages WHERE recipient IN (?, ?, ?)`, mine));
        seen.push({ to: mail.to, rows });
      },
    };
    await dispatcher(transport, { leaseMs }).drainOnce();
    expect(seen.map((s) => s.to).sort()).toEqual([...mine].sort());
    seen.forEach(({ to, rows }, k) => {
      const sending = rows.find((r) => r.recipient === to)!;
      // A fresh, full lease for this one send...
      expect(sending.attempts).toBe(1);
      expect(sending.lease_left_ms).toBeGreaterThan(leaseMs - 10_000);
      // ...while the messages not reached yet are not claimed at all.
      expect(rows.filter((r) => r.attempts === 1)).toHaveLength(k + 1);
      expect(rows.filter((r) => r.attempts === 0)).toHaveLength(mine.length - 1 - k);
    });
  });

  test('a round that outlasts the lease sends no message twice, with another dispatcher polling meanwhile', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await invite()).email);
    const sendMs = 150;
    const leaseMs = 400;
    const sends: string[] = [];
    const slow = (): MailTransport => ({
      async send(mail) {
        if (!mine.includes(mail.to)) return;
        sends.push(mail.to);
        await sleep(sendMs);
      },
    });
    const opts = { leaseMs, retryDelayMs: () => 60_000 };
    // Alone, this round takes 5 × 150 ms, longer than the lease.
    const first = dispatcher(slow(), opts).drainOnce();
    const other = dispatcher(slow(), opts);
    for (let i = 0; i < 4; i++) {
      await sleep(leaseMs / 2);
      await other.drainOnce();
    }
    await first;
    expect([...sends].sort()).toEqual([...mine].sort());
    for (const email of mine) expect((await outboxOf(email))[0]).toMatchObject({ status: 'sent', attempts: 1 });
  });

  test('stopping mid-round ends it after the message being sent, leaving the rest unclaimed', async () => {
    const mine = [(await invite()).email, (await invite()).email, (await invite()).email];
    const sent: string[] = [];
    let stopping: Promise<void> | undefined;
    const running = dispatcher({
      async send(mail) {
        if (!mine.includes(mail.to)) return;
        sent.push(mail.to);
        // Not awaited here: stop() waits for this very round.
        stopping ??= running.stop();
      },
    });
    const result = await running.drainOnce();
    await stopping;
    expect(sent).toHaveLength(1);
    expect(result.sent).toBe(result.claimed);
    const rows = (await Promise.all(mine.map(outboxOf))).map(([row]) => row!);
    expect(rows.filter((r) => r.status === 'sent')).toEqual([expect.objectContaining({ recipient: sent[0], attempts: 1 })]);
    expect(rows.filter((r) => r.status === 'pending').map((r) => r.attempts)).toEqual([0, 0]);
  });
});

test('the default backoff doubles from 30 seconds up to an hour', () => {
  expect([1, 2, 3, 20].map(backoff)).toEqual([30_000, 60_000, 120_000, 3_600_000]);
});

test('started, it polls until stopped; a throwing transport does not stop the loop', async () => {
  const first = await invite();
  let calls = 0;
  const sent: string[] = [];
  const flaky: MailTransport = {
    async send(mail) {
      calls++;
      if (calls === 1) throw 'not even an Error';
      sent.push(mail.to);
    },
  };
  const running = dispatcher(flaky, { pollIntervalMs: 10, retryDelayMs: () => 0 });
  running.start();
  const deadline = Date.now() + 10_000;
  while (!sent.includes(first.email) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await running.stop();
  expect(sent).toContain(first.email);

  const after = await invite();
  await new Promise((r) => setTimeout(r, 100));
  expect(sent).not.toContain(after.email);
  expect((await outboxOf(after.email))[0]).toMatchObject({ status: 'pending', attempts: 0 });
});

test('the log transport logs recipient and subject, never the body', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const transport = logTransport(pino({ level: 'info' }, sink));
  await transport.send({ from: 'a@example.test', to: 'b@example.test', subject: 'Hello', text: 'secret link https://x/invitations/abc' });
  const logged = lines.join('');
  expect(logged).toContain('b@example.test');
  expect(logged).toContain('Hello');
  expect(logged).not.toContain('secret link');
  expect(logged).not.toContain('invitations/abc');
});

test('a subject cannot carry extra header lines', async () => {
  await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE organizations SET name = ? WHERE id = ?', ['Evil\r\nBcc: x@evil.test', org.orgId]));
  const { email } = await invite();
  const [row] = await outboxOf(email);
  expect(row!.subject).not.toMatch(/[\r\n]/);
  await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE organizations SET name = ? WHERE id = ?', ['Restored', org.orgId]));
});
