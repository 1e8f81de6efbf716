import type { Database } from '../../db/database.ts';
import type { ApiKeyTokens } from '../api-keys/api-key-token.ts';
import type { DirectoryContext } from '../directory-sync/directory-records.ts';

// STUB (issue 5 wiring): implemented by the directories work.

/**
 * The directory a SCIM request may act for: the directory named in the path, if the bearer
 * token is that directory's current token (compared in constant time); null otherwise (401).
 */
export async function authenticateDirectory(
  _deps: { db: Database; apiKeyTokens: ApiKeyTokens },
  _directoryId: string,
  _bearerToken: string,
): Promise<Omit<DirectoryContext, 'meta'> | null> {
  return null;
}
