import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { gatewayChannel } from '../../src/gateway/gateway-keys.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { gatewayNode, within } from '../helpers/gateway-node.ts';

// A gateway node whose listening backend is killed under it (PostgreSQL only: the embedded
// database has no backend to kill). Changes made while it cannot hear are never trusted away.
let t: TestApp;
let org: TestOrg;
beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

test('a node that loses its notification connection reads the database until it has caught up, then caches again', async () => {
  const url = new URL(t.config.databaseUrl!);
  const applicationName = `gh-gw-${randomBytes(4).toString('hex')}`;
  url.searchParams.set('application_name', applicationName);
  // A slow first reconnect leaves room to change things while the node hears nothing.
  const node = await gatewayNode(t, { target: { kind: 'postgresql', url: url.href }, minBackoffMs: 1500 });
  try {
    const member = await addMember(t, org.orgId, 'admin');
    const header = `Bearer ${member.key}`;
    expect((await node.credentials.resolve(header))?.role).toBe('admin');
    expect(node.credentials.resolve(header)).not.toBeInstanceOf(Promise);

    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      expect(killed.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    await within(1000, () => !node.notifications.listening(gatewayChannel), 'the node to notice');
    // Announced, but nobody on this node hears it.
    await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE api_keys SET role = ? WHERE id = ?', ['viewer', member.key.split('_')[1]]));
    const meanwhile = node.credentials.resolve(header);
    expect(meanwhile).toBeInstanceOf(Promise); // no cache hit while not listening
    expect((await meanwhile)?.role).toBe('viewer');
    expect(node.credentials.resolve(header)).toBeInstanceOf(Promise); // and nothing kept

    await within(10_000, () => node.notifications.listening(gatewayChannel), 'the node to listen again');
    expect((await node.credentials.resolve(header))?.role).toBe('viewer');
    expect(node.credentials.resolve(header)).not.toBeInstanceOf(Promise); // caching again
  } finally {
    await node.stop();
  }
});
