import type { EntityManager } from '@mikro-orm/sql';
import { ValidationError } from '../../errors.ts';
import type { PlanGate } from '../billing/plan-gate.ts';
import { grantableRole } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
import { TeamsRepository } from '../teams/teams.repository.ts';
import type { RoleRule } from './connection.entity.ts';

/**
 * Roles a connection hands out at login must exist in the org and be within the caller's own
 * permissions (an admin must not be able to mint owners through an IdP group they control), and
 * be on the org's plan (402 plan.feature_unavailable, as for an invitation).
 */
export async function checkDefaultRole(scope: OrgScope, key: string, gate: PlanGate): Promise<string> {
  const role = (await grantableRole(scope, key, 'body.defaultRole')).key;
  await gate.requireRole(role);
  return role;
}

/** Each rule's role is grantable by the caller and on the plan; each team is one of this org's. */
export async function checkRoleRules(scope: OrgScope, rules: RoleRule[], gate: PlanGate): Promise<RoleRule[]> {
  const teams = new TeamsRepository(scope.em);
  for (const [i, rule] of rules.entries()) {
    if ('role' in rule) {
      await grantableRole(scope, rule.role, `body.roleRules.${i}.role`);
      await gate.requireRole(rule.role);
    } else if (!(await teams.find(rule.teamId))) {
      throw new ValidationError([{ field: `body.roleRules.${i}.teamId`, message: `unknown team "${rule.teamId}"` }]);
    }
  }
  return rules;
}

/**
 * An IdP-initiated login needs somewhere to land: the product's login-initiation URL, on the
 * origin of one of the product's registered apps (a redirect URI of an active client), so a
 * connection cannot make Gatehouse send browsers to a site of its own choosing.
 */
export async function checkIdpInitiated(em: EntityManager, allow: boolean, loginUrl: string | null): Promise<void> {
  const field = 'body.idpInitiatedLoginUrl';
  if (!allow) return;
  if (!loginUrl) throw new ValidationError([{ field, message: 'needed when allowIdpInitiated is true (an https URL where the product starts sign-in)' }]);
  const origin = new URL(loginUrl).origin;
  const rows = await em.execute(
    `SELECT 1 FROM oauth_clients, unnest(redirect_uris) AS uri
      WHERE revoked_at IS NULL AND (uri = ? OR starts_with(uri, ?)) LIMIT 1`, [origin, `${origin}/`]);
  if (rows.length === 0) throw new ValidationError([{ field, message: `${origin} is not the origin of a registered application (a redirect URI of a client)` }]);
}

/** Fields of the other connection type are refused rather than silently ignored. */
export function refuseFields(body: object, fields: readonly string[], type: string): void {
  const wrong = fields.filter((f) => (body as Record<string, unknown>)[f] !== undefined);
  if (wrong.length) throw new ValidationError(wrong.map((f) => ({ field: `body.${f}`, message: `not a field of ${type} connections` })));
}

/** The IdP's metadata, SSO and issuer URLs over https only (production). */
export function refusePlainHttp(input: object): void {
  const fields = ['idpMetadataUrl', 'ssoUrl', 'issuer', 'discoveryUrl'];
  const plain = fields.filter((f) => String((input as Record<string, unknown>)[f] ?? '').startsWith('http:'));
  if (plain.length) throw new ValidationError(plain.map((f) => ({ field: `body.${f}`, message: 'must be https' })));
}
