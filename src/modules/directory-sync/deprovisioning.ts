import { AppError } from '../../errors.ts';
import { revokeOidcGrantsInOrg } from '../../oidc/grant-revocation.ts';
import { OidcModelsRepository } from '../../oidc/oidc-models.repository.ts';
import { revokeKeysOf } from '../api-keys/api-keys.service.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import type { OrgScope } from '../scope.ts';
import { leaveAllTeams } from '../teams/team-members.service.ts';
import { UsersRepository } from '../users/users.repository.ts';
import { DirectoryMembersRepository } from './directory-members.repository.ts';

/**
 * The org's owner is out of the directory's reach (ownership moves only by transfer): a
 * suspension or deletion of them is refused before anything changes. Locks the membership.
 */
export async function assertNotOwner(scope: OrgScope, userId: string): Promise<void> {
  if ((await new DirectoryMembersRepository(scope.em).lockRole(userId)) === 'owner') {
    throw new AppError('scim.mutability', 400, 'The organization\'s owner cannot be deactivated or deleted by the directory; transfer ownership first.');
  }
}

/**
 * Takes a person's access to the org away at once (DESIGN.md, deprovisioning), in the caller's
 * transaction: their teams and membership, the API keys they made here, their OIDC grants in
 * this org (refresh tokens stop working now). An account this org manages exists only for it,
 * so everything the issuer holds for it goes too (sessions included), and on `disable` the
 * account itself is disabled (the app role cannot delete users; disabled_at is what sign-in
 * checks).
 */
export async function endMembership(scope: OrgScope, userId: string, reason: 'directory_suspended' | 'directory_deleted', disable: boolean): Promise<void> {
  await leaveAllTeams(scope, userId);
  const removed = await new DirectoryMembersRepository(scope.em).deleteMembership(userId);
  if (removed) await recordAudit(scope, { type: 'member.removed', target: { type: 'user', id: userId }, before: { userId, ...removed }, after: { reason } });
  await revokeKeysOf(scope, userId);
  await revokeOidcGrantsInOrg(scope, userId);
  const users = new UsersRepository(scope.em);
  const user = await users.findById(userId);
  if (user?.managedByOrgId !== scope.orgId) return;
  // oidc_models is not an org table: the app role reaches it from inside the org's transaction.
  await new OidcModelsRepository(scope.em).destroyAllOf(userId);
  if (disable && !user.disabledAt) {
    await users.setDisabled(userId, new Date());
    await recordAudit(scope, { type: 'user.disabled', target: { type: 'user', id: userId }, after: { reason } });
  }
}

/**
 * The IdP provisions again an account this org manages and its own deletion disabled: it may
 * sign in again. The person's own account (not managed here) is never enabled by a directory.
 */
export async function reenableManaged(scope: OrgScope, userId: string): Promise<void> {
  const users = new UsersRepository(scope.em);
  const user = await users.findById(userId);
  if (user?.managedByOrgId !== scope.orgId || !user.disabledAt) return;
  await users.setDisabled(userId, null);
  await recordAudit(scope, { type: 'user.enabled', target: { type: 'user', id: userId }, after: { reason: 'directory_provisioned' } });
}
