import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import { notify } from '../../db/notifications.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { grantableRole } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
import { bindableWorkspace } from '../workspaces/workspace-bounds.ts';
import type { ServiceAccount } from './service-account.entity.ts';
import { ServiceAccountsRepository } from './service-accounts.repository.ts';

export function serviceAccountView(account: ServiceAccount) {
  return {
    id: account.id,
    name: account.name,
    role: account.role,
    clientId: account.clientId,
    createdBy: account.createdBy ?? null,
    createdAt: account.createdAt,
    revokedAt: account.revokedAt ?? null,
    workspaceId: account.workspaceId ?? null,
  };
}
export type ServiceAccountView = ReturnType<typeof serviceAccountView>;

/** Service account client ids are recognisable, so the issuer knows where to look one up. */
export const serviceAccountClientId = /^sa_[0-9a-f]{24}$/;

/**
 * Every node's issuer keeps service account clients in memory (src/oidc/service-account-clients.ts).
 * Whatever changes what it holds announces it here, in the changing transaction: the payload is a
 * client id, or `org:<orgId>` for all of an org's (its slug, its roles' permissions, its deletion).
 * A new service account needs no announcement: the issuer never remembers a client id it did not find.
 */
export const serviceAccountsChannel = 'gatehouse_service_accounts';

export function announceServiceAccountChange(em: EntityManager, changed: { clientId: string } | { orgId: string }): Promise<void> {
  return notify(em, serviceAccountsChannel, 'clientId' in changed ? changed.clientId : `org:${changed.orgId}`);
}

export class ServiceAccountsService {
  readonly #scope: OrgScope;
  readonly #accounts: ServiceAccountsRepository;
  readonly #secrets: SecretBox;

  readonly #plans: PlanDeps | null;

  /** `plans`: the management API always passes them (create checks the role against the plan). */
  constructor(scope: OrgScope, secrets: SecretBox, plans: PlanDeps | null = null) {
    this.#scope = scope;
    this.#accounts = new ServiceAccountsRepository(scope.em);
    this.#secrets = secrets;
    this.#plans = plans;
  }

  /** A new machine client bound to this org and a role; the secret is in the result once. */
  async create(input: { name: string; role: string; workspaceId?: string }): Promise<ServiceAccountView & { clientSecret: string }> {
    this.#scope.authorize('service_accounts:manage');
    const role = await grantableRole(this.#scope, input.role);
    // As for members and API keys: only a role the org's plan offers now.
    if (this.#plans) await new PlanGate(this.#scope, this.#plans).requireRole(role.key);
    const workspaceId = await bindableWorkspace(this.#scope, input.workspaceId);
    const clientId = `sa_${randomBytes(12).toString('hex')}`;
    const clientSecret = randomBytes(32).toString('base64url');
    const account = await this.#accounts.create({
      id: uuidv7(),
      orgId: this.#scope.orgId,
      name: input.name,
      role: role.key,
      clientId,
      secret: this.#secrets.seal(clientSecret, clientId),
      createdBy: this.#scope.userId,
      workspaceId,
    });
    await recordAudit(this.#scope, { type: 'service_account.created', target: { type: 'service_account', id: account.id }, after: serviceAccountView(account) });
    return { ...serviceAccountView(account), clientSecret };
  }

  async list(query: PageQuery): Promise<Page<ServiceAccountView>> {
    this.#scope.authorize('service_accounts:manage');
    const rows = await this.#accounts.listPage(query.limit, query.cursor);
    return toPage(rows, query.limit, (a) => a.id, serviceAccountView);
  }

  /** Revoked at once: every node's issuer forgets the client when this commits. */
  async revoke(id: string): Promise<ServiceAccountView> {
    this.#scope.authorize('service_accounts:manage');
    const account = await this.#accounts.find(id);
    if (!account) throw new NotFoundError('service_account.not_found', 'No such service account.');
    if (!account.revokedAt) {
      account.revokedAt = new Date();
      await this.#accounts.save();
      await recordAudit(this.#scope, { type: 'service_account.revoked', target: { type: 'service_account', id }, after: serviceAccountView(account) });
      await announceServiceAccountChange(this.#scope.em, { clientId: account.clientId });
    }
    return serviceAccountView(account);
  }
}
