import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';

// RFC 9457 problem details for /api. Body-parser and Koa errors (malformed JSON, oversized body)
// arrive as http-errors with a status; they are mapped to stable codes here.
const httpErrorCodes: Record<number, [string, string]> = {
  400: ['request.malformed', 'The request body could not be parsed.'],
  413: ['request.too_large', 'The request body is too large.'],
  405: ['request.method_not_allowed', 'This path does not take that method.'],
  415: ['request.unsupported_media_type', 'Send the body as application/json.'],
  501: ['request.not_implemented', 'This method is not implemented.'],
};

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const status = (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
  const known = status ? httpErrorCodes[status] : undefined;
  if (known) return new AppError(known[0], status!, known[1], { cause: err });
  return new AppError('internal', 500, 'Something went wrong on our side.', { cause: err });
}

/** The RFC 9457 body of an error: the one shape every /api problem has. */
export function problemBody(problem: AppError, requestId: unknown): Record<string, unknown> {
  return {
    type: `urn:gatehouse:problem:${problem.code}`,
    title: problem.code,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    ...(problem.errors ? { errors: problem.errors } : {}),
    requestId,
  };
}

export function problemDetails() {
  return async function renderProblems(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('route.not_found', 404, `No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (err) {
      const problem = toAppError(err);
      if (problem.status >= 500) ctx.state.log?.error({ err: problem.cause ?? problem }, 'request failed');
      ctx.status = problem.status;
      ctx.type = 'application/problem+json';
      ctx.body = problemBody(problem, ctx.state.requestId);
    }
  };
}
