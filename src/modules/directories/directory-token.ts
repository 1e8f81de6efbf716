import type { Database } from '../../db/database.ts';
import type { ApiKeyTokens } from '../api-keys/api-key-token.ts';
import type { DirectoryContext } from '../directory-sync/directory-records.ts';
import { directoryDisabledByPlan } from '../directory-sync/directory-sync.service.ts';
import { PlatformRepository } from '../platform/platform.repository.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The directory a SCIM request may act for: the directory named in the path, if the bearer
 * token is that directory's current token (compared in constant time); null otherwise (401).
 * The org comes from the directory row, never from the request (DESIGN.md, tenancy). A
 * directory the org's plan disabled answers 403 (its data is kept).
 */
export async function authenticateDirectory(
  deps: { db: Database; apiKeyTokens: ApiKeyTokens },
  directoryId: string,
  bearerToken: string,
): Promise<Omit<DirectoryContext, 'meta'> | null> {
  const secret = deps.apiKeyTokens.parseDirectoryToken(bearerToken);
  // A malformed id never reaches PostgreSQL, where it would be a cast error rather than "no row".
  if (!secret || !uuid.test(directoryId)) return null;
  const row = await new PlatformRepository(deps.db).findDirectoryCredential(directoryId.toLowerCase());
  // A revoked directory has no hash; another directory's token or a rotated-away one hashes to
  // something else. The hash is computed either way so the answer's timing says little.
  const matches = deps.apiKeyTokens.verify(secret, row?.token_hash ?? '', 'scim');
  if (!row?.token_hash || !matches) return null;
  // Only a caller holding the token learns that the plan disabled the directory.
  if (row.plan_disabled_at) throw directoryDisabledByPlan();
  return { directoryId: row.id, orgId: row.org_id, defaultRole: row.default_role };
}
