import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Database } from '../db/database.ts';
import { NotFoundError } from '../errors.ts';
import type { Principal } from '../modules/scope.ts';
import { runInOrg } from './org-context.ts';
import { parseInput, renderResult, type RouteSpec } from './route.ts';

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
  const principal = ctx.state.principal as Principal;
  const orgId = ctx.params.orgId ?? '';
  if (!uuidPattern.test(orgId) || orgId.toLowerCase() !== principal.orgId) {
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

/** Mounts route specs on one router, each behind what its trust zone requires. */
export function mountRoutes(router: Router, specs: RouteSpec[], deps: ApiDeps): void {
  for (const spec of specs) {
    const chain: Middleware[] = [];
    if (spec.zone !== 'anonymous') chain.push(deps.authenticate);
    chain.push(handle(spec, deps));
    router[spec.method](spec.path, ...(chain as [Middleware]));
  }
}
