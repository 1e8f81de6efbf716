import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import pg from 'pg';
import { APP_ROLE } from '../../src/db/database.ts';
import { gatewayChannel } from '../../src/gateway/gateway-keys.ts';
import { gatewayResource, issuerUrl } from '../../src/oidc/provider.ts';
import { SigningKeys } from '../../src/oidc/signing-keys.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { gatewayNode, within, type GatewayNode } from '../helpers/gateway-node.ts';

// PostgreSQL only (jest.config.js): a gateway node whose listening backend is killed under it
// (the embedded database has no backend to kill), and a key reload with the keys isolated in a
// transaction that other connections go on past (the embedded database has one session).
let t: TestApp;
let org: TestOrg;
let audience: string;
beforeAll(async () => {
  t = await startAppAtPublicUrl();
  org = await createOrg(t);
  audience = gatewayResource(t.config);
});
afterAll(() => t.close());

const bearer = (token: string) => `Bearer ${token}`;
const resolve = (node: GatewayNode, header: string) => Promise.resolve(node.credentials.resolve(header));
const memberToken = async (_role: string) => ({ userId: (await addMember(t, org.orgId, 'member')).userId });

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

test('keys announced as changed: after the reload, tokens signed by removed keys fail and cached ones are forgotten', async () => {
  // signing_keys is global and shared by every test file on the database: the keys here live in
  // one transaction that is rolled back (as in signing-keys.test.ts), and only the announcement
  // is real.
  const { userId } = await memberToken('member');
  const em = t.db.orm.em.fork({ clear: true });
  em.setSessionContext({ variables: { role: APP_ROLE } });
  await em.begin();
  const isolated = { withoutOrg: <T>(fn: (tx: EntityManager) => Promise<T>) => em.transactional(fn) };
  await em.execute('DELETE FROM signing_keys');
  await new SigningKeys(isolated, t.app.services.secrets).ensureKeys();
  const node = await gatewayNode(t, { keysDb: isolated });
  try {
    await node.keys.reload(); // the reload that starting to listen asks for, done before the keys change
    const token = await node.keys.sign({ iss: issuerUrl(t.config), aud: audience, sub: userId, org_id: org.orgId }, { typ: 'at+jwt', expiresAt: Date.now() + 60_000 });
    const cached = await resolve(node, bearer(token));
    expect(node.credentials.resolve(bearer(token))).toBe(cached);
    const generation = node.keys.generation;
    await em.execute('DELETE FROM signing_keys');
    await new SigningKeys(isolated, t.app.services.secrets).ensureKeys();
    await t.db.withoutOrg((tx) => tx.execute(`SELECT pg_notify('gatehouse_gateway', 'keys')`));
    await within(1000, () => node.keys.generation > generation, 'the keys to be reloaded');
    expect(await resolve(node, bearer(token))).toBeNull();
    await expect(node.keys.verifyAccessToken(token, audience)).rejects.toThrow();
  } finally {
    await node.stop();
    await em.rollback();
  }
});
