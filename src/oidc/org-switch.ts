import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/database.ts';
import { MembersRepository } from '../modules/members/members.repository.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import { GrantOrgsRepository } from './grant-orgs.repository.ts';
import { secondFactorStepFor } from './interactions/second-factor.ts';
import type { GrantClaims } from './org-claims.ts';

export interface OrgSwitchDeps {
  db: Database;
  platform: PlatformRepository;
  claims: GrantClaims;
}

type GrantHandler = (ctx: KoaContextWithOIDC) => Promise<void> | void;

/**
 * The org a token request names (`organization`: id or slug) if the user is a member of it, or
 * throws invalid_grant. An org that requires a second factor of this member, who has none
 * enrolled, is reached only by signing in (where enrolment happens), never by a switch; an org
 * that enforces SSO only from a grant whose sign-in went through its own connection (`ssoOrgId`).
 */
export async function memberOrgNamed(deps: Pick<OrgSwitchDeps, 'db' | 'platform'>, userId: string, named: string, ssoOrgId: string | null): Promise<{ id: string }> {
  const org = (await deps.platform.orgsOfUser(userId)).find((o) => o.id === named || o.slug === named);
  if (!org) throw notAMember();
  if ((await secondFactorStepFor(deps.db, userId, org.id)) === 'totp-enrol') {
    throw new errors.InvalidGrant('the organization requires two-step verification: sign in to it to set it up');
  }
  await assertSsoSession(deps, userId, org.id, ssoOrgId);
  return org;
}

/** SSO enforcement (issue 4): tokens for an enforcing org come only from its SSO sessions. */
export async function assertSsoSession(deps: Pick<OrgSwitchDeps, 'platform'>, userId: string, orgId: string, ssoOrgId: string | null): Promise<void> {
  if (ssoOrgId !== orgId && (await deps.platform.ssoRequired(orgId, userId))) {
    throw new errors.InvalidGrant('the organization requires single sign-on: sign in through its identity provider');
  }
}

export function notAMember(): Error {
  return new errors.InvalidGrant('the user is not a member of the requested organization');
}

/**
 * Makes `grantId` act in `orgId`, checking membership in the same transaction that records it,
 * so a removal that commits first wins. The grant's previous org (if another) lets go of it
 * first: row-level security shows each org only its own rows. Between the two a grant has no
 * org, and its tokens then carry no org claims: that fails closed.
 */
export async function bindGrantToOrg(deps: OrgSwitchDeps, grantId: string, userId: string, orgId: string, ssoConnectionId?: string | null): Promise<boolean> {
  const current = await deps.platform.findGrantOrg(grantId);
  if (current && current.org_id !== orgId) {
    await deps.db.inOrg(current.org_id, (em) => new GrantOrgsRepository(em).delete(grantId));
  }
  // The sign-in's SSO provenance moves with the grant.
  const sso = ssoConnectionId === undefined ? (current?.sso_connection_id ?? null) : ssoConnectionId;
  return deps.db.inOrg(orgId, async (em) => {
    if (!(await new MembersRepository(em).lockByUser(userId))) return false;
    await new GrantOrgsRepository(em).set(grantId, orgId, userId, sso);
    return true;
  });
}

/** A grant and everything issued under it (codes, access and refresh tokens). */
export async function revokeGrant(provider: KoaContextWithOIDC['oidc']['provider'], grantId: string): Promise<void> {
  await provider.RefreshToken.adapter.revokeByGrantId(grantId);
  await provider.Grant.adapter.destroy(grantId);
}

/**
 * The refresh_token grant with an `organization` parameter: the same refresh, with tokens for
 * another org the user belongs to, after which the grant acts in that org. oidc-provider's own
 * handler does the refresh (client, expiry, rotation, reuse detection); this only checks the
 * membership before and records the org after. Without `organization` it is the plain grant.
 */
export function refreshWithOrgSwitch(refresh: GrantHandler, deps: OrgSwitchDeps): GrantHandler {
  return async function refreshTokenWithOrganization(ctx) {
    const named = ctx.oidc.params?.organization;
    const { provider, client } = ctx.oidc;
    const token = await provider.RefreshToken.find(String(ctx.oidc.params?.refresh_token ?? ''), { ignoreExpiration: true });
    // Unknown, expired or another client's token: the plain grant refuses it as it always does.
    if (!token || token.clientId !== client?.clientId || !token.accountId || !token.grantId) return refresh(ctx);
    const current = await deps.platform.findGrantOrg(token.grantId);
    if (named === undefined) {
      // An org that turned SSO enforcement on stops refreshing its members' password grants.
      if (current) await assertSsoSession(deps, token.accountId, current.org_id, current.sso_org_id);
      return refresh(ctx);
    }
    const org = await memberOrgNamed(deps, token.accountId, String(named), current?.sso_org_id ?? null);
    deps.claims.switchTo(ctx, token.grantId, org.id, token.accountId);
    await refresh(ctx);
    if (!(await bindGrantToOrg(deps, token.grantId, token.accountId, org.id))) {
      // removed from the org while the tokens were being made: they must not be used
      await revokeGrant(provider, token.grantId);
      throw notAMember();
    }
  };
}
