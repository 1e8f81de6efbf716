import type { TestApp } from './app.ts';

/**
 * Runs raw statements as the database owner, bypassing the app role's grants and row-level
 * security, to play an attacker with direct database access (tampering with the audit trail).
 * Works on both test databases: the app's connections log in as the owner (a superuser) and
 * only `SET ROLE gatehouse_app` after connecting (embedded PGlite has one such session), so a
 * transaction-local `SET LOCAL ROLE NONE` is the owner until commit, then the app role again.
 */
export async function asDatabaseOwner(t: TestApp, statements: Array<[sql: string, params?: unknown[]]>): Promise<void> {
  const em = t.db.orm.em.fork({ clear: true });
  await em.transactional(async (tx) => {
    await tx.execute('SET LOCAL ROLE NONE');
    for (const [sql, params] of statements) await tx.execute(sql, params ?? []);
  });
}
