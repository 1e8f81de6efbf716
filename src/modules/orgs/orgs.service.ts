import { randomBytes } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../db/database.ts';
import type { EntityManager } from '@mikro-orm/sql';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors.ts';
import { UsersRepository, type NewUser } from '../users/users.repository.ts';
import { revokeGrantsWithoutOrgSso } from '../../oidc/grant-revocation.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { MembersRepository } from '../members/members.repository.ts';
import type { MembershipSource } from '../members/membership.entity.ts';
import { OrgScope, type Principal, type RequestMeta } from '../scope.ts';
import type { Organization } from './organization.entity.ts';
import { OrgsRepository } from './orgs.repository.ts';
import { announceServiceAccountChange } from '../service-accounts/service-accounts.service.ts';

export function orgView(org: Organization) {
  return { id: org.id, name: org.name, slug: org.slug, kind: org.kind, requireMfa: org.requireMfa, ssoEnforced: org.ssoEnforced, createdAt: org.createdAt, updatedAt: org.updatedAt };
}
export type OrgView = ReturnType<typeof orgView>;

export function slugify(name: string): string {
  const slug = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return slug.length >= 2 ? slug : 'org';
}

export interface NewOrg {
  name: string;
  slug?: string;
  kind?: 'team' | 'personal';
  /** The owner: an existing user, or a new one made in the same transaction (bootstrap, sign-up). */
  owner: { source: MembershipSource } & ({ userId: string } | { newUser: NewUser });
  principal: Principal | null;
  meta: RequestMeta;
}

/**
 * Creates an org with its owner in one transaction scoped to the new org; `then` runs in that
 * transaction too (say, to issue the owner's first API key), so nothing is left half made. A
 * slug the caller chose that is taken is a conflict; a derived one gets a random suffix.
 */
export async function createOrganization<T = void>(
  db: Database,
  input: NewOrg,
  then?: (scope: OrgScope, org: OrgView, ownerId: string) => Promise<T>,
): Promise<{ org: OrgView; ownerId: string; then: T }> {
  if (input.principal && !input.principal.permissions.has('org:create')) {
    throw new ForbiddenError('auth.forbidden', 'This needs the org:create permission.');
  }
  for (let attempt = 0; ; attempt++) {
    const id = uuidv7();
    const slug = input.slug ?? (attempt === 0 ? slugify(input.name) : `${slugify(input.name)}-${randomBytes(3).toString('hex')}`);
    try {
      return await db.inOrg(id, async (em) => {
        const scope = new OrgScope(id, em, input.principal, input.meta);
        const ownerId = 'userId' in input.owner ? input.owner.userId : (await newUser(em, input.owner.newUser)).id;
        const org = await new OrgsRepository(em).create({ id, name: input.name, slug, kind: input.kind ?? 'team' });
        await recordAudit(scope, { type: 'org.created', target: { type: 'org', id }, after: orgView(org) });
        const membership = await new MembersRepository(em).create({ orgId: id, userId: ownerId, role: 'owner', source: input.owner.source });
        await recordAudit(scope, { type: 'member.joined', target: { type: 'user', id: ownerId }, after: { role: membership.role, source: membership.source } });
        const view = orgView(org);
        return { org: view, ownerId, then: (await then?.(scope, view, ownerId)) as T };
      });
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
      if (/users_email_key/.test(String(err.message))) throw new ConflictError('user.exists', 'An account with this email already exists.');
      if (!/slug/.test(String(err.message))) throw err;
      if (input.slug || attempt >= 3) throw new ConflictError('org.slug_taken', `The slug "${slug}" is taken.`);
    }
  }
}

async function newUser(em: EntityManager, user: NewUser) {
  const users = new UsersRepository(em);
  if (await users.findByEmail(user.email)) throw new ConflictError('user.exists', 'An account with this email already exists.');
  return users.create(user);
}

export class OrgsService {
  readonly #scope: OrgScope;
  readonly #orgs: OrgsRepository;

  constructor(scope: OrgScope) {
    this.#scope = scope;
    this.#orgs = new OrgsRepository(scope.em);
  }

  async get(): Promise<OrgView> {
    this.#scope.authorize('org:read');
    return orgView(await this.#load());
  }

  async update(patch: { name?: string; slug?: string; requireMfa?: boolean; ssoEnforced?: boolean }): Promise<OrgView> {
    this.#scope.authorize('org:update');
    if (patch.ssoEnforced !== undefined) this.#scope.authorize('sso:manage');
    const org = await this.#load();
    const before = orgView(org);
    if (patch.name !== undefined) org.name = patch.name;
    if (patch.slug !== undefined) org.slug = patch.slug;
    if (patch.requireMfa !== undefined) org.requireMfa = patch.requireMfa;
    if (patch.ssoEnforced !== undefined) org.ssoEnforced = patch.ssoEnforced;
    try {
      await this.#orgs.save();
      // issuers cache service-account claims (the slug among them): tell every node
      await announceServiceAccountChange(this.#scope.em, { orgId: this.#scope.orgId });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError('org.slug_taken', `The slug "${patch.slug}" is taken.`);
      throw err;
    }
    await recordAudit(this.#scope, { type: 'org.updated', target: { type: 'org', id: org.id }, before, after: orgView(org) });
    if (org.ssoEnforced && !before.ssoEnforced) await revokeGrantsWithoutOrgSso(this.#scope);
    return orgView(org);
  }

  /** Deletes the org and, by cascade, everything it owns (its audit trail included). */
  async delete(): Promise<OrgView> {
    this.#scope.authorize('org:delete');
    const org = await this.#load();
    const view = orgView(org);
    await this.#orgs.delete(org);
    // its service accounts go with it: every node's issuer forgets them on commit
    await announceServiceAccountChange(this.#scope.em, { orgId: this.#scope.orgId });
    return view;
  }

  async #load(): Promise<Organization> {
    const org = await this.#orgs.find(this.#scope.orgId);
    if (!org) throw new NotFoundError('org.not_found', 'Organization not found.');
    return org;
  }
}
