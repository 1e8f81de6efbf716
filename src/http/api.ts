import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Database } from '../db/database.ts';
import { ForbiddenError, NotFoundError } from '../errors.ts';
import type { Principal } from '../modules/scope.ts';
import { runInOrg } from './org-context.ts';
import { parseInput, renderResult, type RouteSpec, type Zone } from './route.ts';

export interface ApiDeps {
  db: Database;
  authenticate: Middleware;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Tenancy lock 1: the org comes from the credential; an `:orgId` in the path that is not the
 * credential's org answers 404, exactly as an org that does not exist.
 */
function checkOrgOfCredential(ctx: Context): string {
  // Read again here, not trusted from the zone guard alone: no org principal, no org (fail closed).
  const principal = ctx.state.principal as Principal | undefined;
  const orgId = ctx.params.orgId ?? '';
  if (!principal?.orgId || !uuidPattern.test(orgId) || orgId.toLowerCase() !== principal.orgId) {
    throw new NotFoundError('org.not_found', 'Organization not found.');
  }
  return principal.orgId;
}

function handle(spec: RouteSpec, deps: ApiDeps) {
  return async function routeHandler(ctx: Context): Promise<void> {
    if (spec.zone !== 'org') {
      const input = parseInput(spec, ctx);
      renderResult(spec, ctx, await spec.handler({ ...input, ctx }));
      return;
    }
    const orgId = checkOrgOfCredential(ctx);
    const input = parseInput(spec, ctx);
    // The whole handler runs in one org-scoped transaction: its audit events commit with it.
    const result = await runInOrg(deps.db, orgId, ctx, (scope) => {
      ctx.state.scope = scope;
      return spec.handler({ ...input, ctx });
    });
    renderResult(spec, ctx, result);
  };
}

/**
 * `org` and `principal` routes take org credentials only. A platform key has no org: on an org
 * route it answers 404, as any credential of another org does (tenancy lock 1); elsewhere 403.
 */
function requireOrgCredential(zone: Zone) {
  return async function orgCredentialOnly(ctx: Context, next: Next): Promise<void> {
    if (!ctx.state.principal || ctx.state.platformPrincipal) {
      if (zone === 'org') throw new NotFoundError('org.not_found', 'Organization not found.');
      throw new ForbiddenError('auth.org_credential_required', 'This needs an organization\'s API key or a member\'s access token.');
    }
    await next();
  };
}

/**
 * `platform` routes take platform keys only. An org credential is valid but of the wrong kind:
 * 403, not 404, since these paths are fixed and public (the OpenAPI document lists them), so
 * hiding them hides nothing, and the guard answers before any look-up, so nothing about a
 * client can be learnt from it.
 */
async function platformCredentialOnly(ctx: Context, next: Next): Promise<void> {
  if (!ctx.state.platformPrincipal || ctx.state.principal) {
    throw new ForbiddenError('auth.platform_key_required', 'This needs a platform API key.');
  }
  await next();
}

function guardOf(zone: Zone): Middleware[] {
  if (zone === 'anonymous') return [];
  if (zone === 'platform') return [platformCredentialOnly];
  return [requireOrgCredential(zone)];
}

/** Mounts route specs on one router, each behind what its trust zone requires. */
export function mountRoutes(router: Router, specs: RouteSpec[], deps: ApiDeps): void {
  for (const spec of specs) {
    const chain: Middleware[] = [];
    if (spec.zone !== 'anonymous') chain.push(deps.authenticate);
    chain.push(...guardOf(spec.zone), handle(spec, deps));
    router[spec.method](spec.path, ...(chain as [Middleware]));
  }
}
