import type { Context } from 'koa';
import type { Database } from '../db/database.ts';
import { OrgScope, type Principal, type RequestMeta } from '../modules/scope.ts';

export function requestMeta(ctx: Context): RequestMeta {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null, requestId: ctx.state.requestId ?? null };
}

/** Runs fn in one transaction of `orgId` with the request's principal and metadata. */
export function runInOrg<T>(db: Database, orgId: string, ctx: Context, fn: (scope: OrgScope) => Promise<T>): Promise<T> {
  const principal = (ctx.state.principal as Principal | undefined) ?? null;
  return db.inOrg(orgId, (em) => fn(new OrgScope(orgId, em, principal, requestMeta(ctx))));
}
