import type { EntityManager } from '@mikro-orm/sql';
import type { Database } from '../../db/database.ts';
import { ForbiddenError } from '../../errors.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { OrgScope } from '../scope.ts';
import * as groups from './directory-group-sync.ts';
import type {
  DirectoryContext, DirectoryGroupInput, DirectoryGroupRecord, DirectoryUserInput, DirectoryUserRecord,
  GroupChange, GroupRef, ListQuery, MemberRef, Page,
} from './directory-records.ts';
import * as users from './directory-user-sync.ts';

export interface DirectorySyncDeps {
  db: Database;
  plans: PlanDeps;
}

/**
 * A directory the org's plan no longer covers (no SCIM): its rows are kept, but the IdP may
 * neither read nor change anything until the plan includes SCIM again. 403, not 402: the IdP
 * cannot pay; the detail names the plan code for whoever reads the IdP's provisioning log.
 */
export function directoryDisabledByPlan(): ForbiddenError {
  return new ForbiddenError('plan.feature_unavailable',
    'plan.feature_unavailable: this directory is disabled because the organization\'s plan does not include SCIM; its data is kept and provisioning resumes when the plan includes SCIM again.');
}

/**
 * The scope a directory acts in: its org's transaction, with the directory itself as the
 * principal, so every audit event names it as the actor. It holds no permission: the directory
 * acts through this service only, never through the management API.
 */
export function directoryScope(dir: DirectoryContext, em: EntityManager): OrgScope {
  return new OrgScope(dir.orgId, em, {
    orgId: dir.orgId,
    userId: null,
    role: 'directory',
    permissions: new Set(),
    credential: { type: 'directory', id: dir.directoryId, expiresAt: null },
  }, dir.meta);
}

/**
 * What a directory's IdP may do to the org (issue 5): every method runs in one transaction of
 * the directory's org, audits with the directory as actor, and throws AppErrors (scim.* codes).
 * `ifVersion`: the version the caller last saw (an If-Match ETag); a different one is a 412.
 * Users: directory-user-sync.ts; groups: directory-group-sync.ts; roles and teams:
 * membership-sync.ts; filters: directory-filter.sql.ts.
 */
export class DirectorySyncService {
  readonly #deps: DirectorySyncDeps;

  constructor(deps: DirectorySyncDeps) {
    this.#deps = deps;
  }

  createUser(dir: DirectoryContext, input: DirectoryUserInput): Promise<DirectoryUserRecord> {
    return this.#run(dir, (scope, gate) => users.createUser(scope, dir, input, gate));
  }

  getUser(dir: DirectoryContext, id: string): Promise<{ user: DirectoryUserRecord; groups: GroupRef[] }> {
    return this.#run(dir, (scope) => users.getUser(scope, dir, id));
  }

  listUsers(dir: DirectoryContext, query: ListQuery, opts: { groups: boolean }): Promise<Page<{ user: DirectoryUserRecord; groups?: GroupRef[] }>> {
    return this.#run(dir, (scope) => users.listUsers(scope, dir, query, opts));
  }

  replaceUser(dir: DirectoryContext, id: string, input: DirectoryUserInput, ifVersion?: number): Promise<DirectoryUserRecord> {
    return this.#run(dir, (scope, gate) => users.replaceUser(scope, dir, id, input, gate, ifVersion));
  }

  deleteUser(dir: DirectoryContext, id: string, ifVersion?: number): Promise<void> {
    return this.#run(dir, (scope) => users.deleteUser(scope, dir, id, ifVersion));
  }

  createGroup(dir: DirectoryContext, input: DirectoryGroupInput, memberIds: string[]): Promise<DirectoryGroupRecord> {
    return this.#run(dir, (scope) => groups.createGroup(scope, dir, input, memberIds));
  }

  getGroup(dir: DirectoryContext, id: string, opts: { members: boolean }): Promise<{ group: DirectoryGroupRecord; members?: MemberRef[] }> {
    return this.#run(dir, (scope) => groups.getGroup(scope, dir, id, opts));
  }

  listGroups(dir: DirectoryContext, query: ListQuery, opts: { members: boolean }): Promise<Page<{ group: DirectoryGroupRecord; members?: MemberRef[] }>> {
    return this.#run(dir, (scope) => groups.listGroups(scope, dir, query, opts));
  }

  replaceGroup(dir: DirectoryContext, id: string, input: DirectoryGroupInput, memberIds: string[], ifVersion?: number): Promise<DirectoryGroupRecord> {
    return this.#run(dir, (scope, gate) => groups.replaceGroup(scope, dir, id, input, memberIds, gate, ifVersion));
  }

  patchGroup(dir: DirectoryContext, id: string, change: GroupChange, ifVersion?: number): Promise<DirectoryGroupRecord> {
    return this.#run(dir, (scope, gate) => groups.patchGroup(scope, dir, id, change, gate, ifVersion));
  }

  deleteGroup(dir: DirectoryContext, id: string, ifVersion?: number): Promise<void> {
    return this.#run(dir, (scope, gate) => groups.deleteGroup(scope, dir, id, gate, ifVersion));
  }

  get deps(): DirectorySyncDeps { return this.#deps; }

  /**
   * Every request checks the plan live, in its own transaction: a plan that lapsed (a grace
   * period ended) stops the directory before plan-effects marks it.
   */
  #run<T>(dir: DirectoryContext, fn: (scope: OrgScope, gate: PlanGate) => Promise<T>): Promise<T> {
    return this.#deps.db.inOrg(dir.orgId, async (em) => {
      const scope = directoryScope(dir, em);
      const gate = new PlanGate(scope, this.#deps.plans);
      if (!(await gate.entitlements()).plan.features.has('scim')) throw directoryDisabledByPlan();
      return fn(scope, gate);
    });
  }
}
