import type { Database } from '../../db/database.ts';

/**
 * The one cross-org read retention needs: the ids of every org, a page at a time in id order
 * (the platform role may read organizations; each org's work then runs in that org's scope).
 */
export async function orgIdsPage(db: Database, afterId: string | null, limit: number): Promise<string[]> {
  const rows = await db.asPlatform((em) => em.execute<Array<{ id: string }>>(
    'SELECT id FROM organizations WHERE (?::uuid IS NULL OR id > ?::uuid) ORDER BY id LIMIT ?',
    [afterId, afterId, limit],
  ));
  return rows.map((r) => r.id);
}
