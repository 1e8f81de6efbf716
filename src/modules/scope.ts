import type { EntityManager } from '@mikro-orm/sql';
import { ForbiddenError } from '../errors.ts';
import type { Permission } from './roles/permissions.ts';

/** Who is calling, as established from a credential (never from a request body). */
export interface Principal {
  /** The org the credential belongs to. */
  orgId: string;
  /** The user the credential speaks for (an API key's creator, an access token's subject); a service account speaks for none. */
  userId: string | null;
  /** The role the credential acts with. */
  role: string;
  permissions: ReadonlySet<string>;
  credential: { type: 'api_key' | 'access_token' | 'service_account' | 'directory' | 'setup_link'; id: string; expiresAt: Date | null };
  /**
   * Permissions a role it hands out (an SSO connection's or a directory's default role) may carry
   * beyond its own: a setup link holds only sso/directories powers, yet must be able to name the
   * role people arrive with (setup-link-credential.ts). Absent: only its own permissions.
   */
  grantCeiling?: ReadonlySet<string>;
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface Actor {
  type: 'user' | 'api_key' | 'service_account' | 'directory' | 'setup_link' | 'system';
  id: string | null;
}

/**
 * The per-request org context services are built from (tenancy lock 2): the org, a transaction
 * in which only that org's rows exist, and who is acting.
 */
export class OrgScope {
  readonly orgId: string;
  readonly em: EntityManager;
  readonly principal: Principal | null;
  readonly meta: RequestMeta;

  constructor(orgId: string, em: EntityManager, principal: Principal | null, meta: RequestMeta) {
    this.orgId = orgId;
    this.em = em;
    this.principal = principal;
    this.meta = meta;
  }

  /** The audit actor: the credential if there is one, else the system. */
  get actor(): Actor {
    if (!this.principal) return { type: 'system', id: null };
    const { credential, userId } = this.principal;
    if (credential.type === 'access_token') return { type: 'user', id: userId };
    return { type: credential.type, id: credential.id };
  }

  /** The acting user, if any (the system acts for nobody). */
  get userId(): string | null {
    return this.principal?.userId ?? null;
  }

  can(permission: Permission): boolean {
    return this.principal === null || this.principal.permissions.has(permission);
  }

  authorize(permission: Permission): void {
    if (!this.can(permission)) throw new ForbiddenError('auth.forbidden', `This needs the ${permission} permission.`);
  }
}
