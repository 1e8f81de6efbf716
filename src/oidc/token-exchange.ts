import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import type { JWTPayload } from 'jose';
import { bindGrantToOrg, memberOrgNamed, notAMember, revokeGrant, type OrgSwitchDeps } from './org-switch.ts';

// RFC 8693 token exchange: an access token for one org becomes one for another org the user
// belongs to, or the same org with a narrower scope.
export const tokenExchangeGrantType = 'urn:ietf:params:oauth:grant-type:token-exchange';
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
export const tokenExchangeParameters = ['subject_token', 'subject_token_type', 'requested_token_type', 'actor_token', 'actor_token_type', 'scope', 'resource', 'organization'];

export interface TokenExchangeDeps extends OrgSwitchDeps {
  resources: ReadonlySet<string>;
  resourceServer: (resource: string) => ResourceServer;
  verifyJwt: (token: string, audience: string) => Promise<JWTPayload>;
  userActive: (userId: string) => Promise<boolean>;
}

/** What the presented access token stands for. */
interface Subject {
  accountId: string;
  scopes: Set<string>;
  resource: string | undefined;
  orgId: string | undefined;
  /** The SSO provenance of the subject's grant (SSO enforcement); unknown for a JWT subject, so none. */
  ssoConnectionId: string | null;
  ssoOrgId: string | null;
  exp: number;
}

async function subjectGrantOrg(deps: TokenExchangeDeps, grantId: string): Promise<Pick<Subject, 'orgId' | 'ssoConnectionId' | 'ssoOrgId'>> {
  const row = await deps.platform.findGrantOrg(grantId);
  return { orgId: row?.org_id, ssoConnectionId: row?.sso_connection_id ?? null, ssoOrgId: row?.sso_org_id ?? null };
}

const invalidSubject = () => new errors.InvalidGrant('subject_token is invalid, expired or was not issued to this client');

/** A JWT access token for one of our resources, or an opaque one, issued to this client for a user. */
async function loadSubject(ctx: KoaContextWithOIDC, deps: TokenExchangeDeps, value: string): Promise<Subject> {
  const { provider, client } = ctx.oidc;
  if (value.split('.').length === 3) {
    for (const resource of deps.resources) {
      const payload = await deps.verifyJwt(value, resource).catch(() => undefined);
      if (!payload) continue;
      // a service account's token (sub = client_id) stands for no user and cannot change org
      if (payload.client_id !== client!.clientId || !payload.sub || payload.sub === payload.client_id) throw invalidSubject();
      return {
        accountId: payload.sub,
        scopes: new Set(String(payload.scope ?? '').split(' ').filter(Boolean)),
        resource,
        orgId: typeof payload.org_id === 'string' ? payload.org_id : undefined,
        ssoConnectionId: null,
        ssoOrgId: null,
        exp: payload.exp!,
      };
    }
    throw invalidSubject();
  }
  const token = await provider.AccessToken.find(value);
  if (!token || token.clientId !== client!.clientId || !token.accountId || !token.grantId || !token.exp) throw invalidSubject();
  const grant = await provider.Grant.find(token.grantId);
  if (!grant || grant.clientId !== client!.clientId || grant.accountId !== token.accountId) throw invalidSubject();
  return {
    accountId: token.accountId,
    scopes: new Set(String(token.scope ?? '').split(' ').filter(Boolean)),
    resource: undefined,
    ...(await subjectGrantOrg(deps, token.grantId)),
    exp: token.exp,
  };
}

function requestedScopes(ctx: KoaContextWithOIDC, subject: Subject): Set<string> {
  if (!ctx.oidc.params?.scope) return subject.scopes;
  const requested = new Set(String(ctx.oidc.params.scope).split(' ').filter(Boolean));
  const extra = [...requested].filter((s) => !subject.scopes.has(s));
  if (extra.length) throw new errors.InvalidScope('the subject token does not hold the requested scope', extra.join(' '));
  return requested;
}

/**
 * The exchanged token belongs to a grant of its own, bound to the target org like a sign-in's
 * grant, so removing the member revokes it too. It never outlives the subject token, so
 * exchanging again and again cannot keep a credential alive.
 */
export function tokenExchange(deps: TokenExchangeDeps) {
  return async function tokenExchangeHandler(ctx: KoaContextWithOIDC): Promise<void> {
    const params = (ctx.oidc.params ?? {}) as Record<string, unknown>;
    const { provider, client } = ctx.oidc;
    if (typeof params.subject_token !== 'string' || !params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
    if (params.subject_token_type !== accessTokenType) throw new errors.InvalidRequest(`subject_token_type must be ${accessTokenType}`);
    if (params.requested_token_type !== undefined && params.requested_token_type !== accessTokenType) {
      throw new errors.InvalidRequest(`only ${accessTokenType} can be requested`);
    }
    if (params.actor_token !== undefined) throw new errors.InvalidRequest('delegation (actor_token) is not supported');

    const subject = await loadSubject(ctx, deps, params.subject_token);
    if (!(await deps.userActive(subject.accountId))) throw invalidSubject();
    const scopes = requestedScopes(ctx, subject);
    const named = typeof params.organization === 'string' ? params.organization : subject.orgId;
    if (!named) throw new errors.InvalidRequest('organization is required: the subject token acts in no org');
    const org = await memberOrgNamed(deps, subject.accountId, named, subject.ssoOrgId);
    const resource = typeof params.resource === 'string' ? params.resource : subject.resource;
    const server = resource ? new provider.ResourceServer(resource, deps.resourceServer(resource)) : undefined;
    const lifetime = Math.min(server?.accessTokenTTL ?? 600, subject.exp - Math.floor(Date.now() / 1000));
    if (lifetime <= 0) throw invalidSubject();

    // expiresIn: a BaseToken option the typings of Grant leave out
    const grant = new provider.Grant({ accountId: subject.accountId, clientId: client!.clientId, expiresIn: lifetime } as { accountId: string; clientId: string });
    const oidcScopes = [...scopes].filter((s) => !server?.scopes.has(s));
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    const resourceScopes = server ? [...scopes].filter((s) => server.scopes.has(s)) : [];
    if (server) grant.addResourceScope(resource!, resourceScopes.join(' '));
    const grantId = await grant.save();
    if (!(await bindGrantToOrg(deps, grantId, subject.accountId, org.id, subject.ssoConnectionId))) {
      await revokeGrant(provider, grantId);
      throw notAMember();
    }
    const token = new provider.AccessToken({
      accountId: subject.accountId,
      client: client!,
      grantId,
      gty: tokenExchangeGrantType,
      scope: (server ? resourceScopes : oidcScopes).join(' ') || undefined,
      expiresIn: lifetime,
      ...(server ? { resourceServer: server } : {}),
    });
    const value = await token.save();
    ctx.body = {
      access_token: value,
      issued_token_type: accessTokenType,
      token_type: 'Bearer',
      expires_in: lifetime,
      ...(token.scope ? { scope: token.scope } : {}),
    };
  };
}
