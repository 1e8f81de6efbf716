// The contracts between the gateway's parts (DESIGN.md, gateway/): the credential caches produce a
// GatewayPrincipal, the route policy produces a RouteDecision, and the proxy combines the two.

/** Who calls through the gateway, as verified from a credential; immutable and cached per credential. */
export interface GatewayPrincipal {
  readonly orgId: string;
  readonly orgSlug: string;
  /** The user the credential speaks for; null for a service account. */
  readonly userId: string | null;
  readonly role: string;
  /**
   * Everything the role holds now: Gatehouse's own permissions and the product's (the route
   * policy's `permissions` for built-in roles, the stored list for custom ones). For an API key,
   * only what both the key's role and its creator's role hold.
   */
  readonly permissions: ReadonlySet<string>;
  readonly credential: { readonly type: 'api_key' | 'access_token' | 'service_account'; readonly id: string };
  /** The workspace an API key or service account is bound to (null: not bound). */
  readonly workspaceId: string | null;
  /**
   * The workspaces this credential may reach: the bound one; else a limited member's (and, for an
   * API key, its creator's); else every workspace of the org. A `:workspaceId` in a route must be
   * in it, so another org's workspace id never passes.
   */
  readonly workspaceIds: ReadonlySet<string>;
  /** When the credential stops being valid by itself (ms since epoch; Infinity: never). */
  readonly expiresAt: number;
}

/** Turns an Authorization header into a principal; a cache hit answers synchronously. */
export interface CredentialResolver {
  resolve(authorization: string | undefined): GatewayPrincipal | null | Promise<GatewayPrincipal | null>;
}

/** What the route policy says of one request. */
export type RouteDecision =
  | { readonly kind: 'public' }
  | {
    readonly kind: 'protected';
    readonly permission: string;
    /** The path's :orgId, :orgSlug and :workspaceId values, when the route names them. */
    readonly orgId?: string;
    readonly orgSlug?: string;
    readonly workspaceId?: string;
  };
