import type { ApiKeyCredentialRow } from '../platform/platform.repository.ts';
import { rolePermissions, type ProductPermissions } from '../roles/product-permissions.ts';
import type { ApiKeyTokens } from './api-key-token.ts';

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

/**
 * Which of the key's secrets `secret` is (each compared in constant time against its keyed hash):
 * the current one, or during a rotation's grace the previous one; null when neither.
 */
export function apiKeySecretMatch(tokens: ApiKeyTokens, secret: string, row: KeySecrets, now: number): 'current' | 'previous' | null {
  if (tokens.verify(secret, row.secret_hash)) return 'current';
  return previousSecretInGrace(row, now) && tokens.verify(secret, row.previous_secret_hash!) ? 'previous' : null;
}

/** Whether `secret` opens the key at `now`: usable, and its current secret or, in the grace, the previous one. */
export function apiKeySecretValid(tokens: ApiKeyTokens, secret: string, row: KeySecrets, now: number): boolean {
  return apiKeyUsable(row, now) && apiKeySecretMatch(tokens, secret, row, now) !== null;
}

/**
 * Constant-time equality of two secrets of one length (the key format fixes it): every character
 * is compared whatever the first difference, so the time says nothing about how much matched.
 */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
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
