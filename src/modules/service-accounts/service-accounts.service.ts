import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { grantableRole } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
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
  };
}
export type ServiceAccountView = ReturnType<typeof serviceAccountView>;

/** Service account client ids are recognisable, so the issuer knows where to look one up. */
export const serviceAccountClientId = /^sa_[0-9a-f]{24}$/;

export class ServiceAccountsService {
  readonly #scope: OrgScope;
  readonly #accounts: ServiceAccountsRepository;
  readonly #secrets: SecretBox;

  constructor(scope: OrgScope, secrets: SecretBox) {
    this.#scope = scope;
    this.#accounts = new ServiceAccountsRepository(scope.em);
    this.#secrets = secrets;
  }

  /** A new machine client bound to this org and a role; the secret is in the result once. */
  async create(input: { name: string; role: string }): Promise<ServiceAccountView & { clientSecret: string }> {
    this.#scope.authorize('service_accounts:manage');
    const role = await grantableRole(this.#scope, input.role);
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
    });
    await recordAudit(this.#scope, { type: 'service_account.created', target: { type: 'service_account', id: account.id }, after: serviceAccountView(account) });
    return { ...serviceAccountView(account), clientSecret };
  }

  async list(query: PageQuery): Promise<Page<ServiceAccountView>> {
    this.#scope.authorize('service_accounts:manage');
    const rows = await this.#accounts.listPage(query.limit, query.cursor);
    return toPage(rows, query.limit, (a) => a.id, serviceAccountView);
  }

  /** Revoked at once: the issuer finds no client for it from the next request on. */
  async revoke(id: string): Promise<ServiceAccountView> {
    this.#scope.authorize('service_accounts:manage');
    const account = await this.#accounts.find(id);
    if (!account) throw new NotFoundError('service_account.not_found', 'No such service account.');
    if (!account.revokedAt) {
      account.revokedAt = new Date();
      await this.#accounts.save();
      await recordAudit(this.#scope, { type: 'service_account.revoked', target: { type: 'service_account', id }, after: serviceAccountView(account) });
    }
    return serviceAccountView(account);
  }
}
