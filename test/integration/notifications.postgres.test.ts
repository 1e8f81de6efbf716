import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import pg from 'pg';
import { serviceAccountsChannel } from '../../src/modules/service-accounts/service-accounts.service.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import type { TestOrg } from '../helpers/factories.ts';
import { notificationsFixture } from '../helpers/notifications-fixture.ts';

// Cross-node invalidation with two real apps on one PostgreSQL database, and a listening backend
// killed under a node. Runs only on PostgreSQL (see jest.config.js): embedded databases are one
// per app and have no backend to kill.
const { f, waitFor, node, cacheOn, serviceAccount, heardBy, changeRoleSilently } = notificationsFixture();
let t: TestApp;
let org: TestOrg;
const stops = f.stops;
beforeAll(() => {
  t = f.t;
  org = f.org;
});

test('two apps on one database: a revoke on one makes the other refuse the client at once', async () => {
  const b = await startAppAtPublicUrl();
  stops.push(() => b.close());
  const sa = await serviceAccount();
  const tokenFrom = async (app: TestApp) => {
    const config = await oidc.discovery(new URL(`${app.url}/oidc`), sa.clientId, undefined, oidc.ClientSecretBasic(sa.clientSecret), { execute: [oidc.allowInsecureRequests] });
    try {
      return (await oidc.clientCredentialsGrant(config, { resource: `${app.url}/api/v1` })).token_type.toLowerCase();
    } catch (err) {
      const e = err as { error?: string; cause?: { parameters?: { error?: string } }[] };
      return e.error ?? e.cause?.[0]?.parameters?.error ?? String(err);
    }
  };
  expect(await tokenFrom(b)).toBe('bearer'); // b now holds the client in memory
  expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/service-accounts/${sa.id}`)).status).toBe(200);
  expect(await tokenFrom(b)).toBe('invalid_client');
  expect(await tokenFrom(t)).toBe('invalid_client');
});

test('a node that lost its listening connection forgets everything and listens again', async () => {
  const sa = await serviceAccount();
  const url = new URL(t.config.databaseUrl!);
  const applicationName = `gh-notify-${randomBytes(4).toString('hex')}`;
  url.searchParams.set('application_name', applicationName);
  const notifications = node({ kind: 'postgresql', url: url.href }, { minBackoffMs: 10 });
  let resets = 0;
  notifications.onReset(() => resets++);
  const cache = cacheOn(notifications);
  const heard = heardBy(notifications);
  await notifications.start();
  await cache.find(sa.clientId);
  await changeRoleSilently(sa.clientId, 'viewer');
  expect((await cache.find(sa.clientId))?.role).toBe('member');

  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    expect(killed.rowCount).toBe(1);
  } finally {
    await admin.end();
  }
  const resetsBefore = resets;
  await waitFor(() => resets > resetsBefore && notifications.listening(serviceAccountsChannel), 'the listener to come back');
  expect((await cache.find(sa.clientId))?.role).toBe('viewer');
  // And it hears changes again.
  await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/service-accounts/${sa.id}`);
  await heard(sa.clientId);
  expect(await cache.find(sa.clientId)).toBeUndefined();
});
