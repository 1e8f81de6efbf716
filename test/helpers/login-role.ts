import pg from 'pg';

/** The login the app uses in PostgreSQL test runs: no superuser, owns nothing. */
export const testLoginRole = 'gatehouse_test_login';

/** Creates the login role (roles are cluster-wide: once) and lets it reach the test database. */
export async function ensureTestLoginRole(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${testLoginRole}') THEN
        CREATE ROLE ${testLoginRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
      END IF; END $$`);
    // NOINHERIT: the login holds no privilege of its own; only SET ROLE to one of the two grants any.
    await client.query(`ALTER ROLE ${testLoginRole} NOINHERIT`);
    await client.query(`GRANT gatehouse_app, gatehouse_platform TO ${testLoginRole}`);
    await client.query(`GRANT CONNECT ON DATABASE "${client.database}" TO ${testLoginRole}`);
  } finally {
    await client.end();
  }
}
