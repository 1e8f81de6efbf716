import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

const validId = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The matched route pattern, or for an unmatched path the path with every long opaque segment
 * masked: a path may hold a one-time token (/invitations/<token>) that must never reach the logs.
 */
function loggablePath(ctx: Context): string {
  const route = (ctx as { _matchedRoute?: string })._matchedRoute;
  return route ?? ctx.path.replace(/[A-Za-z0-9_-]{24,}/g, '…');
}

/** A request id (the caller's X-Request-Id when sane) and a child logger on ctx.state. */
export function requestContext(logger: Logger) {
  return async function withRequestContext(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get('x-request-id');
    const requestId = validId.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      ctx.state.log.info(
        { method: ctx.method, path: loggablePath(ctx), status: ctx.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  };
}
