import SCIMMY from 'scimmy';
import type { Context, Next } from 'koa';
import { AppError } from '../src/errors.ts';

// RFC 7644 §3.12: every SCIM error is the Error message schema, with `status` as a string.
// Errors are rendered once, here. scimmy's Resource classes turn any unknown error into a 404;
// this edge never uses them, and anything it does not recognise is a logged 500.

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export type ScimError = SCIMMY.Types.SCIMError;

/** A SCIM protocol error (scimmy's type, so its own errors and ours render the same way). */
export function scimError(status: number, scimType: string | null, detail: string): ScimError {
  return new SCIMMY.Types.Error(status, scimType as never, detail);
}

/**
 * Runs scimmy schema code: it reports a value that does not fit the schema as a plain TypeError,
 * which is the sender's 400 invalidValue. Only around scimmy calls, so our own bugs stay 500s.
 */
export function viaScimmy<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError) throw scimError(400, 'invalidValue', err.message);
    throw err;
  }
}

export interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: string;
  detail: string;
}

/** AppError codes `scim.<x>` the sync service throws, by their scimType (RFC 7644 §3.12 table 9). */
const scimTypes: Record<string, string | null> = {
  'scim.uniqueness': 'uniqueness',
  'scim.invalid_value': 'invalidValue',
  'scim.invalid_filter': 'invalidFilter',
  'scim.invalid_path': 'invalidPath',
  'scim.invalid_syntax': 'invalidSyntax',
  'scim.no_target': 'noTarget',
  'scim.mutability': 'mutability',
  'scim.too_many': 'tooMany',
  'scim.invalid_version': 'invalidVers',
  'scim.precondition_failed': null,
};

/** Koa/body-parser errors that carry an HTTP status (malformed JSON, body too large). */
function httpError(err: unknown): { status: number } | null {
  const status = (err as { status?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? { status } : null;
}

/** The status and body of an error; `internal` is true when the cause must be logged. */
export function renderScimError(err: unknown): { status: number; body: ScimErrorBody; internal: boolean } {
  const body = (status: number, scimType: string | null | undefined, detail: string, internal = false) => ({
    status, internal,
    body: { schemas: [ERROR_SCHEMA] as [typeof ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail },
  });
  if (err instanceof SCIMMY.Types.Error) {
    const status = Number(err.status);
    // 501 is ours (an optional feature not offered); any other 5xx from scimmy is a failure.
    if (status === 501) return body(501, null, err.message);
    return status >= 500 ? body(500, null, 'Something went wrong on our side.', true) : body(status, err.scimType, err.message);
  }
  if (err instanceof AppError) {
    if (err.status >= 500) return body(500, null, 'Something went wrong on our side.', true);
    const scimType = err.code in scimTypes ? scimTypes[err.code] : err.status === 400 ? 'invalidValue' : null;
    // The plan's refusals (402 plan.seat_limit, 403 for a directory the plan disabled) have no
    // scimType in RFC 7644 §3.12; the detail names the code so the IdP's log says which.
    if (err.code.startsWith('plan.') && !err.detail.startsWith(err.code)) return body(err.status, null, `${err.code}: ${err.detail}`);
    return body(err.status, scimType, err.detail);
  }
  const http = httpError(err);
  if (http?.status === 413) return body(413, null, 'The request body is too large.');
  if (http?.status === 415) return body(415, null, 'Send the body as application/scim+json.');
  if (http) return body(400, 'invalidSyntax', 'The request body is not valid JSON.');
  return body(500, null, 'Something went wrong on our side.', true);
}

/** Renders every error under /scim as a SCIM Error (and a 401 with its challenge). */
export function scimErrors() {
  return async function renderScimErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const { status, body, internal } = renderScimError(err);
      if (internal) ctx.state.log?.error({ err: (err as { cause?: unknown })?.cause ?? err }, 'scim request failed');
      // RFC 6750 §3: a bearer-protected resource answers 401 with its challenge.
      if (status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="scim"');
      ctx.status = status;
      ctx.type = SCIM_CONTENT_TYPE;
      ctx.body = body;
    }
  };
}
