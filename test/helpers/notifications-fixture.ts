import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Notifications, type ListenTarget } from '../../src/db/notifications.ts';
import { serviceAccountsChannel } from '../../src/modules/service-accounts/service-accounts.service.ts';
import { ServiceAccountClients, type ServiceAccountClientsOptions } from '../../src/oidc/service-account-clients.ts';
import { startAppAtPublicUrl, type TestApp } from './app.ts';
import { createOrg, type TestOrg } from './factories.ts';

const log = pino({ level: 'silent' });

/**
 * One app and org per test file, plus other nodes' listening ends (stopped after each test),
 * for the cross-node invalidation tests. Call at the top of a test file.
 */
export function notificationsFixture() {
  const f = {
    t: undefined as unknown as TestApp,
    org: undefined as unknown as TestOrg,
    stops: [] as Array<() => Promise<void>>,
  };
  beforeAll(async () => {
    f.t = await startAppAtPublicUrl();
    f.org = await createOrg(f.t);
  });
  afterEach(async () => {
    await Promise.all(f.stops.splice(0).map((stop) => stop()));
  });
  afterAll(() => f.t.close());

  async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Another node's listening end on the test database, stopped after the test. */
  function node(target: ListenTarget = f.t.db.listenTarget, opts = {}): Notifications {
    const notifications = new Notifications(target, log, opts);
    f.stops.push(() => notifications.stop());
    return notifications;
  }

  return {
    f,
    waitFor,
    node,
    channel: () => `test_${randomBytes(6).toString('hex')}`,
    async listener(name: string) {
      const notifications = node();
      const received: string[] = [];
      notifications.subscribe(name, (payload) => received.push(payload));
      await notifications.start();
      return { received, heard: (payload: string) => waitFor(() => received.includes(payload), `"${payload}" on ${name}`) };
    },
    cacheOn(notifications: Notifications, opts: ServiceAccountClientsOptions = {}): ServiceAccountClients {
      return new ServiceAccountClients({ platform: f.t.app.services.platform, secrets: f.t.app.services.secrets, notifications }, opts);
    },
    async serviceAccount(role = 'member'): Promise<{ id: string; clientId: string; clientSecret: string }> {
      const res = await f.org.owner.api('POST', `/api/v1/orgs/${f.org.orgId}/service-accounts`, { name: 'n', role });
      expect(res.status).toBe(201);
      return res.body;
    },
    /** Everything a node hears on the service accounts channel, after its caches have heard it. */
    heardBy(notifications: Notifications) {
      const payloads: string[] = [];
      notifications.subscribe(serviceAccountsChannel, (payload) => payloads.push(payload));
      return (payload: string) => waitFor(() => payloads.includes(payload), `"${payload}" to be heard`);
    },
    /** A change made behind the caches' back: nothing announces it. */
    changeRoleSilently(clientId: string, role: string): Promise<unknown> {
      return f.t.db.inOrg(f.org.orgId, (em) => em.execute('UPDATE service_accounts SET role = ? WHERE client_id = ?', [role, clientId]));
    },
  };
}
