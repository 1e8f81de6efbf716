import { ForbiddenError, NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import type { ApiKeyTokens } from '../api-keys/api-key-token.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import { OrgsRepository } from '../orgs/orgs.repository.ts';
import type { Permission } from '../roles/permissions.ts';
import type { OrgScope } from '../scope.ts';
import type { SetupLink } from './setup-link.entity.ts';
import { creatorPermissionsOfScope, type SetupLinkScope } from './setup-link-credential.ts';
import { SetupLinksRepository } from './setup-links.repository.ts';

export function setupLinkView(link: SetupLink) {
  return {
    id: link.id,
    scope: link.scope as SetupLinkScope,
    note: link.note ?? null,
    createdBy: link.createdBy,
    createdAt: link.createdAt,
    expiresAt: link.expiresAt,
    revokedAt: link.revokedAt ?? null,
    lastUsedAt: link.lastUsedAt ?? null,
  };
}
export type SetupLinkView = ReturnType<typeof setupLinkView>;

export interface SetupLinksDeps extends PlanDeps {
  apiKeyTokens: ApiKeyTokens;
  /** PUBLIC_URL: the link is `${publicUrl}/admin/setup/<token>`. */
  publicUrl: string;
}

export interface NewSetupLinkInput {
  scope: SetupLinkScope;
  expiresInHours: number;
  note?: string | undefined;
}

/** What the portal needs to know about the link it was opened with. */
export interface CurrentSetupLink {
  orgId: string;
  orgName: string;
  orgSlug: string;
  scope: SetupLinkScope;
  expiresAt: Date;
}

const notFound = () => new NotFoundError('setup_link.not_found', 'No such setup link.');

export class SetupLinksService {
  readonly #scope: OrgScope;
  readonly #links: SetupLinksRepository;
  readonly #deps: SetupLinksDeps;

  constructor(scope: OrgScope, deps: SetupLinksDeps) {
    this.#scope = scope;
    this.#links = new SetupLinksRepository(scope.em);
    this.#deps = deps;
  }

  /** A new link; its URL (holding the secret) is in the result once and never again. */
  async create(input: NewSetupLinkInput): Promise<SetupLinkView & { url: string }> {
    this.#authorizeScope(input.scope);
    // A link is handed out by a person, who answers for it: not by a link or a machine.
    const createdBy = this.#scope.userId;
    if (!createdBy) throw new ForbiddenError('setup_link.person_required', 'Only a person can create a setup link.');
    await new PlanGate(this.#scope, this.#deps).requireFeature('setup_links');
    const issued = this.#deps.apiKeyTokens.issue('setup');
    const link = await this.#links.create({
      id: issued.id, orgId: this.#scope.orgId, scope: input.scope, secretHash: issued.secretHash, createdBy,
      note: input.note ?? null, expiresAt: new Date(Date.now() + input.expiresInHours * 3_600_000),
    });
    await recordAudit(this.#scope, { type: 'setup_link.created', target: { type: 'setup_link', id: link.id }, after: setupLinkView(link) });
    return { ...setupLinkView(link), url: `${this.#deps.publicUrl}/admin/setup/${issued.token}` };
  }

  /** Every link of the org, for whoever may hand out either kind (never a secret). */
  async list(query: PageQuery): Promise<Page<SetupLinkView>> {
    this.#refuseLinks();
    if (!this.#scope.can('sso:manage')) this.#scope.authorize('directories:manage');
    const rows = await this.#links.listPage(query.limit, query.cursor);
    return toPage(rows, query.limit, (l) => l.id, setupLinkView);
  }

  /** Ends a link at once; revoking a revoked link changes nothing and audits nothing. */
  async revoke(id: string): Promise<SetupLinkView> {
    this.#refuseLinks();
    const link = await this.#links.lock(id);
    if (!link) throw notFound();
    this.#authorizeScope(link.scope as SetupLinkScope);
    if (!link.revokedAt) {
      link.revokedAt = new Date();
      await this.#links.save();
      await recordAudit(this.#scope, { type: 'setup_link.revoked', target: { type: 'setup_link', id: link.id }, after: setupLinkView(link) });
    }
    return setupLinkView(link);
  }

  /** The calling setup link itself (the portal's header); any other credential has none. */
  async current(): Promise<CurrentSetupLink> {
    const credential = this.#scope.principal?.credential;
    if (credential?.type !== 'setup_link') throw new NotFoundError('setup_link.not_current', 'This credential is not a setup link.');
    const link = await this.#links.find(credential.id);
    const org = await new OrgsRepository(this.#scope.em).find(this.#scope.orgId);
    if (!link || !org) throw notFound();
    return { orgId: org.id, orgName: org.name, orgSlug: org.slug, scope: link.scope as SetupLinkScope, expiresAt: link.expiresAt };
  }

  /** Handing out (or ending) a link needs every power it grants or relies on (creatorPermissionsOfScope). */
  #authorizeScope(scope: SetupLinkScope): void {
    this.#refuseLinks();
    for (const permission of creatorPermissionsOfScope(scope)) this.#scope.authorize(permission as Permission);
  }

  /** A setup link holds sso:manage or directories:manage, yet must never mint, see or end links. */
  #refuseLinks(): void {
    if (this.#scope.principal?.credential.type === 'setup_link') {
      throw new ForbiddenError('setup_link.not_allowed', 'A setup link cannot manage setup links.');
    }
  }
}
