import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import { NotFoundError } from '../errors.ts';
import { revokeKeysOf } from '../modules/api-keys/api-keys.service.ts';
import { recordAudit } from '../modules/audit/audit.recorder.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import { OrgScope, type RequestMeta } from '../modules/scope.ts';
import { UsersRepository } from '../modules/users/users.repository.ts';
import { revokeOidcGrantsInOrg } from './grant-revocation.ts';
import { OidcModelsRepository, type StoredPayload } from './oidc-models.repository.ts';

export interface AccountRevocationDeps {
  db: Database;
  platform: PlatformRepository;
  provider: () => Provider;
  logger: Logger;
}

const systemMeta: RequestMeta = { ip: null, userAgent: null, requestId: null };

/**
 * Disables a user everywhere at once (DESIGN.md deprovisioning): no sign-in, refresh, exchange or
 * API access in any org. The flag goes first, so nothing new is issued while the rest is
 * removed: in each org their API keys and grants (audited there), then every session, grant and
 * token the issuer holds for them; clients that registered a back-channel logout URI are told
 * which sessions ended. Memberships stay, so enabling the user again restores their access.
 */
export async function disableUser(deps: AccountRevocationDeps, userId: string): Promise<void> {
  const user = await deps.db.withoutOrg((em) => new UsersRepository(em).setDisabled(userId, new Date()));
  if (!user) throw new NotFoundError('user.not_found', 'No such user.');
  for (const org of await deps.platform.orgsOfUser(userId)) {
    await deps.db.inOrg(org.id, async (em) => {
      const scope = new OrgScope(org.id, em, null, systemMeta);
      await revokeKeysOf(scope, userId);
      await revokeOidcGrantsInOrg(scope, userId);
      await recordAudit(scope, { type: 'user.disabled', target: { type: 'user', id: userId } });
    });
  }
  const sessions = await deps.db.withoutOrg((em) => new OidcModelsRepository(em).destroyAllOf(userId));
  await backchannelLogout(deps, userId, sessions);
}

/** Lets a disabled user sign in again; their memberships (and roles) are as they were. */
export async function enableUser(deps: AccountRevocationDeps, userId: string): Promise<void> {
  const user = await deps.db.withoutOrg((em) => new UsersRepository(em).setDisabled(userId, null));
  if (!user) throw new NotFoundError('user.not_found', 'No such user.');
  for (const org of await deps.platform.orgsOfUser(userId)) {
    await deps.db.inOrg(org.id, (em) => recordAudit(new OrgScope(org.id, em, null, systemMeta), { type: 'user.enabled', target: { type: 'user', id: userId } }));
  }
}

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.5: a logout token to each client of each ended
 * session that registered a URI. Delivery is best effort (the session is gone either way);
 * failures are logged.
 */
async function backchannelLogout(deps: AccountRevocationDeps, userId: string, sessions: StoredPayload[]): Promise<void> {
  const provider = deps.provider();
  const deliveries: Promise<void>[] = [];
  for (const session of sessions) {
    const authorizations = (session.authorizations ?? {}) as Record<string, { sid?: string }>;
    for (const [clientId, { sid }] of Object.entries(authorizations)) {
      deliveries.push((async () => {
        const client = await provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri || !sid) return;
        // a method of oidc-provider's Client (it signs the logout token) that its typings leave out
        await (client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }).backchannelLogout(userId, sid);
      })().catch((err: unknown) => deps.logger.warn({ err, clientId }, 'back-channel logout not delivered')));
    }
  }
  await Promise.all(deliveries);
}
