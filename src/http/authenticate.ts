import type { Context, Next } from 'koa';
import { UnauthorizedError } from '../errors.ts';
import type { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import { permissionsOfRole } from '../modules/roles/permissions.ts';
import type { Principal } from '../modules/scope.ts';

/**
 * Establishes ctx.state.principal from `Authorization: Bearer gh_<keyid>_<secret>`. Every failure
 * answers the same 401 so a caller learns nothing about which part was wrong.
 */
export function authenticate(deps: { platform: PlatformRepository; apiKeyTokens: ApiKeyTokens }) {
  return async function authenticateApiKey(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const parsed = match ? deps.apiKeyTokens.parse(match[1]!) : null;
    if (!parsed) return reject(ctx);
    const row = await deps.platform.findApiKeyCredential(parsed.id);
    if (!row || !deps.apiKeyTokens.verify(parsed.secret, row.secret_hash)) return reject(ctx);
    if (row.revoked_at || (row.expires_at && row.expires_at.getTime() <= Date.now())) return reject(ctx);
    // A key lives only while its creator is a member; it never exceeds the creator's rights.
    if (!row.member_role) return reject(ctx);
    const creator = new Set(permissionsOfRole(row.member_role, row.member_role_permissions));
    const permissions = new Set(permissionsOfRole(row.key_role, row.key_role_permissions).filter((p) => creator.has(p)));
    const principal: Principal = {
      orgId: row.org_id,
      userId: row.created_by,
      role: row.key_role,
      permissions,
      credential: { type: 'api_key', id: row.id, expiresAt: row.expires_at },
    };
    ctx.state.principal = principal;
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
      await deps.platform.markApiKeyUsed(row.id);
    }
    await next();
  };
}

function reject(ctx: Context): never {
  ctx.set('WWW-Authenticate', 'Bearer realm="gatehouse"');
  throw new UnauthorizedError();
}
