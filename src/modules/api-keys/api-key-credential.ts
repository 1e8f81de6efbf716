import type { ApiKeyCredentialRow } from '../platform/platform.repository.ts';
import { rolePermissions, type ProductPermissions } from '../roles/product-permissions.ts';
import { sameDigest, type ApiKeyTokens } from './api-key-token.ts';

// The one check of an org API key, shared by the management API (src/http/authenticate.ts) and
// the gateway (src/gateway/credentials.ts) so that the two can never disagree on what a key may do.

type KeySecrets = Pick<ApiKeyCredentialRow, 'secret_hash' | 'previous_secret_hash' | 'previous_secret_expires_at' | 'expires_at' | 'revoked_at'>;

/** Whether the key may be used at `now` at all: not revoked, not expired. */
export function apiKeyUsable(row: KeySecrets, now: number): boolean {
  return !row.revoked_at && !(row.expires_at && row.expires_at.getTime() <= now);
}

/** Whether a rotation's previous secret is still accepted at `now`. */
export function previousSecretInGrace(row: KeySecrets, now: number): boolean {
  return !!row.previous_secret_hash && !!row.previous_secret_expires_at && row.previous_secret_expires_at.getTime() > now;
}

/** A key's stored hashes, decoded from hex once (the gateway keeps them with its cached row). */
export interface ApiKeyHashes {
  current: Buffer;
  previous: Buffer | null;
}

export function apiKeyHashes(row: KeySecrets): ApiKeyHashes {
  return {
    current: Buffer.from(row.secret_hash, 'hex'),
    previous: row.previous_secret_hash ? Buffer.from(row.previous_secret_hash, 'hex') : null,
  };
}

/**
 * Whether `secret` opens the key at `now`: usable, and its current secret or, in a rotation's
 * grace, the previous one. One keyed hash, compared in constant time with each stored hash;
 * nothing keeps the secret, so every request proves it with the keyed hash again. The management
 * API (src/http/authenticate.ts) and the gateway (which passes the hashes it decoded once with
 * its cached row) both decide with this.
 */
export function apiKeySecretValid(
  tokens: ApiKeyTokens, secret: string, row: KeySecrets, now: number, hashes: ApiKeyHashes = apiKeyHashes(row),
): boolean {
  return apiKeyUsable(row, now) && apiKeySecretWhich(tokens, secret, row, now, hashes) !== null;
}

/** Which of the key's secrets `secret` is: the current one, or in a rotation's grace the previous one; null when neither. */
export function apiKeySecretWhich(
  tokens: ApiKeyTokens, secret: string, row: KeySecrets, now: number, hashes: ApiKeyHashes = apiKeyHashes(row),
): 'current' | 'previous' | null {
  const digest = tokens.digest(secret);
  if (sameDigest(digest, hashes.current)) return 'current';
  return hashes.previous !== null && previousSecretInGrace(row, now) && sameDigest(digest, hashes.previous) ? 'previous' : null;
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
