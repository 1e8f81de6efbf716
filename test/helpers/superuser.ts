import pg from 'pg';
import type { TestApp } from './app.ts';

/**
 * Runs raw statements as the database owner, bypassing the app role's grants and row-level
 * security, to play an attacker with direct database access (tampering with the audit trail).
 * On PostgreSQL that is a separate connection with the owner's URL (the app's own login owns
 * nothing); the embedded database has one superuser session, where `SET LOCAL ROLE NONE` is the
 * owner until commit. Statements use `?` placeholders.
 */
export async function asDatabaseOwner(t: TestApp, statements: Array<[sql: string, params?: unknown[]]>): Promise<void> {
  const ownerUrl = process.env.TEST_DATABASE_URL;
  if (ownerUrl) {
    const client = new pg.Client({ connectionString: ownerUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      for (const [sql, params] of statements) {
        let n = 0;
        await client.query(sql.replace(/\?/g, () => `$${++n}`), params ?? []);
      }
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    return;
  }
  const em = t.db.orm.em.fork({ clear: true });
  await em.transactional(async (tx) => {
    await tx.execute('SET LOCAL ROLE NONE');
    for (const [sql, params] of statements) await tx.execute(sql, params ?? []);
  });
}
