import type { EntityManager } from '@mikro-orm/sql';
import type { Database } from '../db/database.ts';
import { PaymentRequiredError } from '../errors.ts';
import { ssoDisabledByPlan } from '../modules/billing/plan-effects.ts';
import { PlanGate, type PlanDeps } from '../modules/billing/plan-gate.ts';
import { recordAudit } from '../modules/audit/audit.recorder.ts';
import type { Connection, RoleRule } from '../modules/connections/connection.entity.ts';
import type { Membership } from '../modules/members/membership.entity.ts';
import { MembersRepository } from '../modules/members/members.repository.ts';
import { resolveRole } from '../modules/roles/role-catalog.ts';
import { OrgScope, type RequestMeta } from '../modules/scope.ts';
import { TeamsRepository } from '../modules/teams/teams.repository.ts';
import type { User } from '../modules/users/user.entity.ts';
import { normalizeEmail, UsersRepository } from '../modules/users/users.repository.ts';
import { connectionProvider, IdentitiesRepository } from './identities.repository.ts';
import { SsoError } from './sso-edge.ts';
import type { SsoProfile } from './sso-profile.ts';

/**
 * Just-in-time provisioning for a login through an org's connection, in one transaction of
 * that org (DESIGN.md, identity model):
 * - the IdP subject seen before → that user;
 * - else an email in one of the org's verified domains → the person's own account (made if
 *   there is none), since the org proved it controls the address;
 * - else an account managed by this org alone, never the account of whoever owns the address
 *   elsewhere: an org's IdP cannot take over anyone outside its domains.
 * The membership is made on first login (source `sso`, the connection's default role), and the
 * connection's group rules are applied at every login.
 */
export async function provisionSsoLogin(db: Database, connection: Connection, profile: SsoProfile, meta: RequestMeta, plans: PlanDeps): Promise<{ userId: string }> {
  return db.inOrg(connection.orgId, async (em) => {
    const scope = new OrgScope(connection.orgId, em, null, meta);
    const gate = new PlanGate(scope, plans);
    // Live, in the login's transaction: a plan that lapsed stops SSO before plan-effects marks the connection.
    if (!(await gate.entitlements()).plan.features.has('sso')) throw new SsoError(403, 'plan.feature_unavailable', ssoDisabledByPlan);
    const user = await userFor(em, connection, profile);
    if (user.disabledAt) throw new SsoError(403, 'user.disabled', 'This account has been disabled. Contact your administrator.');
    const membership = await applyMembership(scope, connection, user.id, profile.groups, gate);
    await applyTeamRules(scope, connection.roleRules, user.id, profile.groups);
    await recordAudit(scope, {
      type: 'sso.login', target: { type: 'user', id: user.id },
      after: { connectionId: connection.id, subject: profile.subject, email: profile.email, role: membership.role, groups: profile.groups },
    });
    return { userId: user.id };
  });
}

async function userFor(em: EntityManager, connection: Connection, profile: SsoProfile): Promise<User> {
  const users = new UsersRepository(em);
  const identities = new IdentitiesRepository(em);
  const provider = connectionProvider(connection.id);
  const email = normalizeEmail(profile.email);
  const known = await identities.touch(provider, profile.subject, email);
  if (known) {
    const user = (await users.findById(known))!;
    // Linked while the org held the person's domain: only while it still does (DESIGN.md).
    if (user.managedByOrgId !== connection.orgId && !(await inVerifiedDomain(em, connection.orgId, user.email))) {
      throw new SsoError(403, 'sso.domain_not_verified', 'This account\'s email domain is no longer verified by the organization. Contact your administrator.');
    }
    return user;
  }
  const name = [profile.givenName, profile.familyName].filter(Boolean).join(' ') || null;
  const user = (await inVerifiedDomain(em, connection.orgId, email))
    ? ((await users.findByEmail(email)) ?? (await users.create({ email, name, passwordHash: null })))
    : ((await users.findManaged(connection.orgId, email)) ?? (await users.create({ email, name, passwordHash: null, managedByOrgId: connection.orgId })));
  await identities.link({ userId: user.id, provider, connectionId: connection.id, subject: profile.subject, email });
  return user;
}

/** Whether the address is in a domain the org verified (named as well as enforced by RLS: the no-takeover rule rests on it). */
async function inVerifiedDomain(em: EntityManager, orgId: string, email: string): Promise<boolean> {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  const rows = await em.execute('SELECT 1 FROM domains WHERE org_id = ? AND domain = ? AND verified_at IS NOT NULL', [orgId, domain]);
  return rows.length > 0;
}

/** Whether the org's directory (SCIM) has deactivated the person: SSO must not bring them back. */
async function suspendedByDirectory(em: EntityManager, userId: string): Promise<boolean> {
  const rows = await em.execute('SELECT 1 FROM directory_users WHERE user_id = ? AND NOT active', [userId]);
  return rows.length > 0;
}

/** The first rule whose group the person is in names the role; none: the default (new members) or unchanged. */
export function matchingRoleRule(rules: RoleRule[], groups: string[]): { group: string; role: string } | null {
  const rule = rules.find((r) => 'role' in r && groups.includes(r.group));
  return rule && 'role' in rule ? rule : null;
}

function ruledRole(rules: RoleRule[], groups: string[]): string | null {
  return matchingRoleRule(rules, groups)?.role ?? null;
}

/**
 * The person's membership, made on first login or re-levelled by the role rules. A rule's role the
 * plan no longer offers (a downgrade since the rule was made) is not given: a new member gets the
 * connection's default, an existing one the default only if it is no higher than their role now
 * (else they keep it); a role the plan does not offer is never given.
 */
async function applyMembership(scope: OrgScope, connection: Connection, userId: string, groups: string[], gate: PlanGate): Promise<Membership> {
  const members = new MembersRepository(scope.em);
  const named = ruledRole(connection.roleRules, groups);
  const offered = named === null || (await gate.allowsRole(named));
  const role = offered ? named : null;
  const existing = await members.lockByUser(userId);
  if (!existing) {
    if (await suspendedByDirectory(scope.em, userId)) {
      throw new SsoError(403, 'member.suspended', 'Your access to this organization has been suspended by its directory. Contact your administrator.');
    }
    // A first login takes a seat (JIT); the whole login is refused, nothing provisioned, when none is left.
    await gate.requireSeats(1).catch((err: unknown) => {
      throw err instanceof PaymentRequiredError
        ? new SsoError(403, 'plan.seat_limit', 'Your organization has no seat left on its plan for a new member. Contact your administrator.')
        : err;
    });
    const given = role ?? connection.defaultRole;
    if (!(await gate.allowsRole(given))) {
      throw new SsoError(403, 'plan.feature_unavailable', 'Your organization\'s plan does not include the role this sign-in would give you. Contact your administrator.');
    }
    const created = await members.create({ orgId: scope.orgId, userId, role: given, source: 'sso' });
    await recordAudit(scope, { type: 'member.added', target: { type: 'user', id: userId }, after: { role: created.role, source: 'sso', connectionId: connection.id } });
    return created;
  }
  // With role rules, the IdP is the source of truth for the roles it gave (an SSO member in no
  // ruled group falls back to the default); the owner is never demoted by an IdP group.
  const ruled = connection.roleRules.some((r) => 'role' in r);
  let target = role ?? (ruled && existing.source === 'sso' ? connection.defaultRole : existing.role);
  if (!offered && !(await notAbove(scope, target, existing.role))) target = existing.role;
  if (target !== existing.role && existing.role !== 'owner' && target !== 'owner' && (await gate.allowsRole(target))) {
    const before = { role: existing.role };
    existing.role = target;
    await members.save();
    await recordAudit(scope, { type: 'member.role_changed', target: { type: 'user', id: userId }, before, after: { role: target, reason: 'sso_group_rule', connectionId: connection.id } });
  }
  return existing;
}

/** Whether every permission of `role` is one `of` holds (an unknown role holds none). */
async function notAbove(scope: OrgScope, role: string, of: string): Promise<boolean> {
  const [a, b] = [await resolveRole(scope, role), await resolveRole(scope, of)];
  return (a?.permissions ?? []).every((p) => b?.permissions.includes(p) ?? false);
}

/** Team rules add the person to the teams of the groups they are in (team removal stays with admins). */
async function applyTeamRules(scope: OrgScope, rules: RoleRule[], userId: string, groups: string[]): Promise<void> {
  const teams = new TeamsRepository(scope.em);
  for (const rule of rules) {
    if (!('teamId' in rule) || !groups.includes(rule.group)) continue;
    if (!(await teams.find(rule.teamId)) || (await teams.findMember(rule.teamId, userId))) continue;
    await teams.addMember({ orgId: scope.orgId, teamId: rule.teamId, userId, role: 'member' });
    await recordAudit(scope, { type: 'team.member_added', target: { type: 'user', id: userId }, after: { teamId: rule.teamId, reason: 'sso_group_rule' } });
  }
}
