import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

const validId = /^[A-Za-z0-9._:-]{1,128}$/;

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
      // The matched route pattern, not the raw path: a path may hold a one-time token
      // (POST /invitations/:token/accept) that must never reach the logs.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute;
      ctx.state.log.info(
        { method: ctx.method, path: route ?? ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    }
  };
}
