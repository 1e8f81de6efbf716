import { recordAudit } from '../modules/audit/audit.recorder.ts';
import type { OrgScope } from '../modules/scope.ts';
import { GRANTABLE_MODELS } from './adapter.ts';
import { GrantOrgsRepository } from './grant-orgs.repository.ts';
import { OidcModelsRepository } from './oidc-models.repository.ts';

/**
 * Ends a user's OIDC access to the scoped org at once (they left it or were removed): every
 * grant that acts in this org goes, with its codes, access and refresh tokens, in the caller's
 * transaction. Grants for the user's other orgs are untouched.
 */
export async function revokeOidcGrantsInOrg(scope: OrgScope, userId: string): Promise<void> {
  const grantOrgs = new GrantOrgsRepository(scope.em);
  const models = new OidcModelsRepository(scope.em);
  const grants = await grantOrgs.grantsOf(userId);
  for (const grantId of grants) {
    await models.deleteByGrantId(grantId, GRANTABLE_MODELS);
    await models.destroy('Grant', grantId);
  }
  await grantOrgs.deleteFor(userId);
  if (grants.length) await recordAudit(scope, { type: 'oidc.grants_revoked', target: { type: 'user', id: userId }, after: { grants: grants.length } });
}
