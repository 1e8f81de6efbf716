import type { ApiKeyCredentialRow } from '../platform/platform.repository.ts';
import { rolePermissions, type ProductPermissions } from '../roles/product-permissions.ts';
import type { ApiKeyTokens } from './api-key-token.ts';

// The one check of an org API key, shared by the management API (src/http/authenticate.ts) and
// the gateway (src/gateway/credentials.ts) so that the two can never disagree on what a key may do.

type KeySecrets = Pick<ApiKeyCredentialRow, 'secret_hash' | 'previous_secret_hash' | 'previous_secret_expires_at' | 'expires_at' | 'revoked_at'>;

/**
 * Whether `secret` opens the key at `now`: not revoked, not expired, and the current secret or,
 * during a rotation's grace period, the previous one (each compared in constant time).
 */
export function apiKeySecretValid(tokens: ApiKeyTokens, secret: string, row: KeySecrets, now: number): boolean {
  if (row.revoked_at || (row.expires_at && row.expires_at.getTime() <= now)) return false;
  if (tokens.verify(secret, row.secret_hash)) return true;
  return !!row.previous_secret_hash && !!row.previous_secret_expires_at && row.previous_secret_expires_at.getTime() > now
    && tokens.verify(secret, row.previous_secret_hash);
}

/**
 * What a key may do: only what both its role and its creator's current role hold. Null when the
 * creator is no longer an active member of the key's org (the key dies with the membership).
 */
export function apiKeyPermissions(row: ApiKeyCredentialRow, product: ProductPermissions): Set<string> | null {
  if (!row.member_role) return null;
  const creator = new Set(rolePermissions(row.member_role, row.member_role_permissions, product));
  return new Set(rolePermissions(row.key_role, row.key_role_permissions, product).filter((p) => creator.has(p)));
}

/** The workspaces a key reaches: its bound one, if its creator reaches it; else the creator's. */
export function apiKeyWorkspaces(row: ApiKeyCredentialRow): string[] {
  if (!row.workspace_id) return row.member_workspace_ids;
  return row.member_workspace_ids.includes(row.workspace_id) ? [row.workspace_id] : [];
}
