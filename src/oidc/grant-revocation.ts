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

/**
 * SSO enforcement turned on: the org's grants of members in its verified domains that did not
 * come through its own SSO end now, so no existing password session keeps getting tokens for
 * the org (a new authorization goes through the sign-in, which enforces). Row-level security
 * hides other orgs' connections, so their SSO counts as none here.
 */
export async function revokeGrantsWithoutOrgSso(scope: OrgScope): Promise<void> {
  const rows = await scope.em.execute<{ grant_id: string }[]>(
    `SELECT g.grant_id FROM oidc_grant_orgs g
       JOIN users u ON u.id = g.user_id
       JOIN domains d ON d.org_id = g.org_id AND d.verified_at IS NOT NULL AND d.domain = split_part(lower(u.email), '@', 2)
       LEFT JOIN connections c ON c.id = g.sso_connection_id AND c.org_id = g.org_id
      WHERE g.org_id = ? AND c.id IS NULL`, [scope.orgId]);
  const models = new OidcModelsRepository(scope.em);
  const grantOrgs = new GrantOrgsRepository(scope.em);
  for (const { grant_id: grantId } of rows) {
    await models.deleteByGrantId(grantId, GRANTABLE_MODELS);
    await models.destroy('Grant', grantId);
    await grantOrgs.delete(grantId);
  }
  if (rows.length) await recordAudit(scope, { type: 'oidc.grants_revoked', after: { grants: rows.length, reason: 'sso_enforced' } });
}
