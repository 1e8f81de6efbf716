import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { MembersRepository } from '../members/members.repository.ts';
import { assertMemberWithinCaller, assertWithinCaller, grantableRole, resolveRole } from '../roles/role-catalog.ts';
import type { OrgScope } from '../scope.ts';
import { assertWithinWorkspaceBounds, bindableWorkspace } from '../workspaces/workspace-bounds.ts';
import type { ApiKey } from './api-key.entity.ts';
import type { ApiKeyTokens } from './api-key-token.ts';
import { ApiKeysRepository } from './api-keys.repository.ts';

export function apiKeyView(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    createdBy: key.createdBy,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt ?? null,
    lastUsedAt: key.lastUsedAt ?? null,
    revokedAt: key.revokedAt ?? null,
    workspaceId: key.workspaceId ?? null,
    usageCount: Number(key.usageCount ?? 0),
    rotatedAt: key.rotatedAt ?? null,
    previousSecretExpiresAt: key.previousSecretExpiresAt ?? null,
  };
}
export type ApiKeyView = ReturnType<typeof apiKeyView>;

/** Revokes every active key a user made in the scoped org (when they leave it). */
export async function revokeKeysOf(scope: OrgScope, userId: string): Promise<void> {
  const repo = new ApiKeysRepository(scope.em);
  for (const key of await repo.activeOf(userId)) {
    key.revokedAt = new Date();
    await repo.save();
    await recordAudit(scope, { type: 'api_key.revoked', target: { type: 'api_key', id: key.id }, after: { ...apiKeyView(key), reason: 'member_removed' } });
  }
}

export interface NewApiKey {
  name: string;
  role: string;
  expiresAt?: Date;
  workspaceId?: string;
}

/** How long the secret a rotation replaces keeps working, unless the caller says otherwise. */
export const defaultRotationGraceSeconds = 86_400;

export class ApiKeysService {
  readonly #scope: OrgScope;
  readonly #keys: ApiKeysRepository;
  readonly #tokens: ApiKeyTokens;
  readonly #plans: PlanDeps | null;

  /** `plans`: the management API always passes them; null only for the operator's own paths (bootstrap, org creation's first key). */
  constructor(scope: OrgScope, tokens: ApiKeyTokens, plans: PlanDeps | null = null) {
    this.#scope = scope;
    this.#keys = new ApiKeysRepository(scope.em);
    this.#tokens = tokens;
    this.#plans = plans;
  }

  /** Creates a key for the acting user; the secret is in the result once and never again. */
  async create(input: NewApiKey, creatorUserId = this.#scope.userId): Promise<ApiKeyView & { key: string }> {
    if (!this.#scope.can('api_keys:manage')) this.#scope.authorize('api_keys:create');
    if (!creatorUserId) throw new ForbiddenError();
    const role = await grantableRole(this.#scope, input.role);
    // A role the plan lacks (viewer on free, a custom role after a downgrade) is not granted to a key either.
    if (this.#plans) await new PlanGate(this.#scope, this.#plans).requireRole(role.key);
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new ValidationError([{ field: 'body.expiresAt', message: 'must be in the future' }]);
    }
    // A key made with an expiring key expires no later than its maker (by default, with it), so
    // it cannot outlive it.
    const maker = this.#scope.principal?.credential;
    const makerExpiry = maker?.type === 'api_key' ? maker.expiresAt : null;
    if (makerExpiry && input.expiresAt && input.expiresAt > makerExpiry) {
      throw new ValidationError([{ field: 'body.expiresAt', message: `must be no later than ${makerExpiry.toISOString()}, the calling key's expiry` }]);
    }
    const expiresAt = input.expiresAt ?? makerExpiry;
    const workspaceId = await bindableWorkspace(this.#scope, input.workspaceId, creatorUserId);
    if (this.#plans) await new PlanGate(this.#scope, this.#plans).requireApiKeySlot(() => this.#keys.countActive());
    const issued = this.#tokens.issue();
    const key = await this.#keys.create({
      id: issued.id,
      orgId: this.#scope.orgId,
      name: input.name,
      role: role.key,
      secretHash: issued.secretHash,
      createdBy: creatorUserId,
      expiresAt,
      workspaceId,
    });
    await recordAudit(this.#scope, { type: 'api_key.created', target: { type: 'api_key', id: key.id }, after: apiKeyView(key) });
    return { ...apiKeyView(key), key: issued.token };
  }

  /** Managers see every key; others see their own. */
  async list(query: PageQuery): Promise<Page<ApiKeyView>> {
    const own = !this.#scope.can('api_keys:manage');
    if (own) this.#scope.authorize('api_keys:create');
    const rows = await this.#keys.listPage(query.limit, query.cursor, own ? (this.#scope.userId ?? undefined) : undefined);
    return toPage(rows, query.limit, (k) => k.id, apiKeyView);
  }

  async revoke(id: string): Promise<ApiKeyView> {
    const key = await this.#loadActionable(id);
    if (!key.revokedAt) {
      key.revokedAt = new Date();
      await this.#keys.save();
      await recordAudit(this.#scope, { type: 'api_key.revoked', target: { type: 'api_key', id: key.id }, after: apiKeyView(key) });
    }
    return apiKeyView(key);
  }

  /**
   * A new secret for the same key id, shown once. The old secret keeps working for the grace
   * period; only one previous secret is kept, so rotating again within it ends the first at once.
   */
  async rotate(id: string, gracePeriodSeconds = defaultRotationGraceSeconds): Promise<ApiKeyView & { key: string }> {
    const key = await this.#loadActionable(id, { lock: true });
    const now = new Date();
    if (key.revokedAt) throw new ConflictError('api_key.revoked', 'A revoked API key cannot be rotated.');
    if (key.expiresAt && key.expiresAt <= now) throw new ConflictError('api_key.expired', 'An expired API key cannot be rotated.');
    // The new secret carries the key's role, reach and lifetime, so the caller must hold all three:
    // a member-role key of the owner must not mint a fresh secret for the owner's owner-role key,
    // and an expiring key must not mint one for a key that outlives it (as create refuses both).
    const role = await resolveRole(this.#scope, key.role);
    if (role) assertWithinCaller(this.#scope, role.permissions);
    const maker = this.#scope.principal?.credential;
    if (maker?.type === 'api_key' && maker.expiresAt && (!key.expiresAt || key.expiresAt > maker.expiresAt)) {
      throw new ForbiddenError('api_key.outlives_caller', 'That key would outlive the calling key: rotate it with a credential that lasts as long.');
    }
    await assertWithinWorkspaceBounds(this.#scope, key.workspaceId ?? null);
    const issued = this.#tokens.reissue(key.id);
    // With no grace the old secret ends now: nothing of it is kept.
    key.previousSecretHash = gracePeriodSeconds > 0 ? key.secretHash : null;
    key.previousSecretExpiresAt = gracePeriodSeconds > 0 ? new Date(now.getTime() + gracePeriodSeconds * 1000) : null;
    key.secretHash = issued.secretHash;
    key.rotatedAt = now;
    await this.#keys.save();
    await recordAudit(this.#scope, { type: 'api_key.rotated', target: { type: 'api_key', id: key.id }, after: { ...apiKeyView(key), gracePeriodSeconds } });
    return { ...apiKeyView(key), key: issued.token };
  }

  /**
   * A key the caller may revoke or rotate: their own (with api_keys:create), or anyone's with
   * api_keys:manage if its creator is within the caller. Others' keys are not found.
   */
  async #loadActionable(id: string, opts: { lock?: boolean } = {}): Promise<ApiKey> {
    const key = await (opts.lock ? this.#keys.lock(id) : this.#keys.find(id));
    const mine = key?.createdBy === this.#scope.userId;
    if (!key || (!mine && !this.#scope.can('api_keys:manage'))) {
      throw new NotFoundError('api_key.not_found', 'No such API key.');
    }
    if (mine) {
      if (!this.#scope.can('api_keys:manage')) this.#scope.authorize('api_keys:create');
    } else {
      const creator = await new MembersRepository(this.#scope.em).findByUser(key.createdBy);
      if (creator) await assertMemberWithinCaller(this.#scope, creator.role);
    }
    return key;
  }
}
