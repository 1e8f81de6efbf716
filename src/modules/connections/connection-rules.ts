import { ValidationError } from '../../errors.ts';
import { grantableRole } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
import { TeamsRepository } from '../teams/teams.repository.ts';
import type { RoleRule } from './connection.entity.ts';

/**
 * Roles a connection hands out at login must exist in the org and be within the caller's own
 * permissions: an admin must not be able to mint owners through an IdP group they control.
 */
export async function checkDefaultRole(scope: OrgScope, key: string): Promise<string> {
  return (await grantableRole(scope, key, 'body.defaultRole')).key;
}

/** Each rule's role is grantable by the caller; each team is one of this org's. */
export async function checkRoleRules(scope: OrgScope, rules: RoleRule[]): Promise<RoleRule[]> {
  const teams = new TeamsRepository(scope.em);
  for (const [i, rule] of rules.entries()) {
    if ('role' in rule) {
      await grantableRole(scope, rule.role, `body.roleRules.${i}.role`);
    } else if (!(await teams.find(rule.teamId))) {
      throw new ValidationError([{ field: `body.roleRules.${i}.teamId`, message: `unknown team "${rule.teamId}"` }]);
    }
  }
  return rules;
}

/** An IdP-initiated login needs somewhere to land: the product's login-initiation URL. */
export function checkIdpInitiated(allow: boolean, loginUrl: string | null): void {
  if (allow && !loginUrl) {
    throw new ValidationError([{ field: 'body.idpInitiatedLoginUrl', message: 'needed when allowIdpInitiated is true (an https URL where the product starts sign-in)' }]);
  }
}

/** Fields of the other connection type are refused rather than silently ignored. */
export function refuseFields(body: object, fields: readonly string[], type: string): void {
  const wrong = fields.filter((f) => (body as Record<string, unknown>)[f] !== undefined);
  if (wrong.length) throw new ValidationError(wrong.map((f) => ({ field: `body.${f}`, message: `not a field of ${type} connections` })));
}
