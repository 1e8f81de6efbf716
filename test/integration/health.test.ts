import { client, startApp } from '../helpers/app.ts';

// An embedded database even in PostgreSQL runs: once closed it stays closed (a pg pool would
// quietly reconnect), which is how a lost database looks to /readyz.
test('/healthz answers while the process runs; /readyz only while the database answers', async () => {
  const t = await startApp({ DATABASE_URL: '', DATABASE_MIGRATION_URL: '' });
  const call = client(t.url);
  expect((await call('GET', '/healthz')).body).toEqual({ status: 'ok' });
  expect((await call('GET', '/readyz')).status).toBe(200);
  await t.db.close();
  const ready = await call('GET', '/readyz');
  expect(ready.status).toBe(503);
  expect(ready.body).toEqual({ status: 'database unreachable' });
  expect((await call('GET', '/healthz')).status).toBe(200);
  await t.app.close();
}, 90_000); // a fresh embedded database runs every migration first: slow on a loaded 2-core machine
