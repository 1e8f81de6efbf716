import { randomBytes, randomUUID } from 'node:crypto';
import { notify } from '../../src/db/notifications.ts';
import { announceServiceAccountChange } from '../../src/modules/service-accounts/service-accounts.service.ts';
import type { TestApp } from '../helpers/app.ts';
import type { TestOrg } from '../helpers/factories.ts';
import { notificationsFixture } from '../helpers/notifications-fixture.ts';

// Cross-node invalidation over LISTEN/NOTIFY. On PostgreSQL (TEST_DATABASE_URL) every Notifications
// has its own listening connection, so two of them are two nodes as far as PostgreSQL can tell. On
// embedded PGlite each app has its own database with one session: two subscribers on that session
// stand in for two nodes. The tests that need two apps on one database, or a killable listening
// backend, are in notifications.postgres.test.ts, which runs on PostgreSQL only (jest.config.js).
const { f, node, channel, listener, cacheOn, serviceAccount, heardBy, changeRoleSilently } = notificationsFixture();
let t: TestApp;
let org: TestOrg;
beforeAll(() => {
  t = f.t;
  org = f.org;
});

describe('notify', () => {
  test('a notification is delivered when its transaction commits, not before', async () => {
    const name = channel();
    const l = await listener(name);
    await t.db.withoutOrg(async (em) => {
      await notify(em, name, 'committed');
      await new Promise((r) => setTimeout(r, 100));
      expect(l.received).toEqual([]);
    });
    await l.heard('committed');
    expect(l.received).toEqual(['committed']);
  });

  test('a rolled-back transaction notifies nobody', async () => {
    const name = channel();
    const l = await listener(name);
    await expect(t.db.withoutOrg(async (em) => {
      await notify(em, name, 'rolled back');
      throw new Error('abort');
    })).rejects.toThrow('abort');
    // Notifications arrive in commit order: once this one is here, the other would have been.
    await t.db.withoutOrg((em) => notify(em, name, 'after'));
    await l.heard('after');
    expect(l.received).toEqual(['after']);
  });

  test('every listening node hears it', async () => {
    const name = channel();
    const [a, b] = [await listener(name), await listener(name)];
    await t.db.withoutOrg((em) => notify(em, name, 'both'));
    await Promise.all([a.heard('both'), b.heard('both')]);
  });

  test('outside a transaction notify is refused', async () => {
    await expect(notify(t.db.orm.em.fork(), channel(), 'x')).rejects.toThrow(/inside the transaction/);
  });

  test('a channel name that is not a lower-case identifier is refused', async () => {
    const notifications = node();
    expect(() => notifications.subscribe('Bad; DROP TABLE x', () => undefined)).toThrow(/lower-case identifier/);
    await expect(t.db.withoutOrg((em) => notify(em, 'Bad', 'x'))).rejects.toThrow(/lower-case identifier/);
  });
});

describe('service account clients on every node', () => {
  test('a revoke forgets the client on every node as soon as the node hears the commit', async () => {
    const sa = await serviceAccount();
    const [a, b] = [node(), node()];
    const caches = [cacheOn(a), cacheOn(b)];
    const heard = [heardBy(a), heardBy(b)];
    await Promise.all([a.start(), b.start()]);
    for (const cache of caches) expect(await cache.find(sa.clientId)).toMatchObject({ client_secret: sa.clientSecret, role: 'member' });
    // Both now serve from memory: a change nobody announces is not seen...
    await changeRoleSilently(sa.clientId, 'viewer');
    for (const cache of caches) expect((await cache.find(sa.clientId))?.role).toBe('member');
    // ...while the revoke, announced in its transaction, is. Delivery to another connection is
    // asynchronous (PostgreSQL signals every listener at commit; it takes them a moment), so
    // the test waits for each node to hear it, and bounds how long that took.
    const revoked = Date.now();
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/service-accounts/${sa.id}`)).status).toBe(200);
    await Promise.all(heard.map((h) => h(sa.clientId)));
    expect(Date.now() - revoked).toBeLessThan(1000);
    for (const cache of caches) expect(await cache.find(sa.clientId)).toBeUndefined();
  });

  test('a change announced for an org forgets all of its clients', async () => {
    const [one, two] = [await serviceAccount(), await serviceAccount()];
    const notifications = node();
    const cache = cacheOn(notifications);
    const heard = heardBy(notifications);
    await notifications.start();
    await cache.find(one.clientId);
    await cache.find(two.clientId);
    await changeRoleSilently(one.clientId, 'viewer');
    await changeRoleSilently(two.clientId, 'viewer');
    await t.db.inOrg(org.orgId, (em) => announceServiceAccountChange(em, { orgId: org.orgId }));
    await heard(`org:${org.orgId}`);
    await expect(Promise.all([cache.find(one.clientId), cache.find(two.clientId)])).resolves.toEqual([
      expect.objectContaining({ role: 'viewer' }),
      expect.objectContaining({ role: 'viewer' }),
    ]);
  });

  test('a client id that is not found is not remembered: one made later works at once', async () => {
    const notifications = node();
    const cache = cacheOn(notifications);
    await notifications.start();
    const clientId = `sa_${randomBytes(12).toString('hex')}`;
    expect(await cache.find(clientId)).toBeUndefined();
    // Made behind the cache's back, as creation announces nothing.
    const secret = 'later-secret';
    await t.db.inOrg(org.orgId, (em) => em.execute(
      'INSERT INTO service_accounts (id, org_id, name, role, client_id, secret) VALUES (?, ?, ?, ?, ?, ?)',
      [randomUUID(), org.orgId, 'later', 'viewer', clientId, t.app.services.secrets.seal(secret, clientId)]));
    expect(await cache.find(clientId)).toMatchObject({ client_id: clientId, client_secret: secret });
  });

  test('a remembered client is read again once its time to live has passed', async () => {
    const sa = await serviceAccount();
    const notifications = node();
    let now = 1_000_000;
    const cache = cacheOn(notifications, { ttlMs: 60_000, now: () => now });
    await notifications.start();
    await cache.find(sa.clientId);
    await changeRoleSilently(sa.clientId, 'viewer');
    now += 59_000;
    expect((await cache.find(sa.clientId))?.role).toBe('member');
    now += 2_000;
    expect((await cache.find(sa.clientId))?.role).toBe('viewer');
  });

  test('a node that is not listening keeps nothing: every lookup reads the database', async () => {
    const sa = await serviceAccount();
    const cache = cacheOn(node()); // never started
    await cache.find(sa.clientId);
    await changeRoleSilently(sa.clientId, 'viewer');
    expect((await cache.find(sa.clientId))?.role).toBe('viewer');
  });
});

test('a node whose listening connection cannot be made fails to start, and listens to nothing', async () => {
  const notifications = node({ kind: 'postgresql', url: 'postgres://nobody@127.0.0.1:1/none' });
  notifications.subscribe('test_unreachable', () => undefined);
  await expect(notifications.start()).rejects.toThrow(/ECONNREFUSED|connect/);
  expect(notifications.listening('test_unreachable')).toBe(false);
});

