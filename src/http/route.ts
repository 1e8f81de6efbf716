import type { Context } from 'koa';
import { z, type ZodType } from 'zod';
import { AppError, ValidationError, type FieldError } from '../errors.ts';
import type { OrgScope, Principal } from '../modules/scope.ts';
import type { PlatformPrincipal } from './authenticate.ts';

/**
 * Trust zones: `anonymous` needs nothing; `principal` needs a valid org credential; `org` also
 * needs the `:orgId` in the path to be the credential's org and runs in that org's transaction;
 * `platform` needs a platform API key (the operators'), which no other zone accepts.
 */
export type Zone = 'anonymous' | 'principal' | 'org' | 'platform';
type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  ctx: Context;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  /** Content type for a response declared with a `null` schema (streams, text). */
  type?: string;
}

/**
 * What the zone guarantees to a handler: an org scope in `org` routes, a principal in
 * `principal`, a platform principal (and no principal) in `platform`.
 */
export interface RouteState {
  principal?: Principal;
  scope?: OrgScope;
  platformPrincipal?: PlatformPrincipal;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  path: string;
  zone: Zone;
  summary: string;
  tag: string;
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  /**
   * Every status the route may answer with; a schema strips the body to what it declares.
   * `streams` lists media types the handler may answer with instead (exports), passed as is.
   */
  responses: Record<number, { description: string; schema: ZodType | null; streams?: readonly string[] }>;
  handler: (input: HandlerInput<P, Q, B>) => Promise<HandlerResult>;
}

export function defineRoute<P, Q, B>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as RouteSpec;
}

function fieldErrors(where: string, error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({
    field: [where, ...i.path.map(String)].join('.'),
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
  }));
}

/**
 * Strings PostgreSQL cannot store (NUL) or JSON cannot canonicalise (lone surrogates) are
 * refused up front, wherever they are, so they never reach a query or the audit chain.
 */
function unstorableStrings(value: unknown, field: string, errors: FieldError[]): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000') || !value.isWellFormed()) errors.push({ field, message: 'contains a NUL or an unpaired surrogate' });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) unstorableStrings(v, `${field}.${k}`, errors);
  }
}

/** Validates params, query and body together so every problem is reported at once. */
export function parseInput(spec: RouteSpec, ctx: Context): { params: unknown; query: unknown; body: unknown } {
  const errors: FieldError[] = [];
  const parse = (where: string, schema: ZodType | undefined, value: unknown) => {
    if (!schema) return undefined;
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    errors.push(...fieldErrors(where, result.error));
    return undefined;
  };
  unstorableStrings(ctx.params, 'params', errors);
  unstorableStrings(ctx.query, 'query', errors);
  unstorableStrings((ctx.request as { body?: unknown }).body, 'body', errors);
  if (errors.length) throw new ValidationError(errors);
  const params = parse('params', spec.params, ctx.params);
  const query = parse('query', spec.query, ctx.query);
  if (hasBody(ctx) && !ctx.is('application/json')) {
    throw new AppError('request.unsupported_media_type', 415, 'Send the body as application/json.');
  }
  const rawBody = (ctx.request as { body?: unknown }).body;
  if (!spec.body && hasBody(ctx) && rawBody !== undefined && Object.keys(rawBody as object).length) {
    errors.push({ field: 'body', message: 'this endpoint takes no body' });
  }
  const body = parse('body', spec.body, rawBody ?? {});
  if (errors.length) throw new ValidationError(errors);
  return { params, query, body };
}

function hasBody(ctx: Context): boolean {
  return Boolean(ctx.request.length) || ctx.get('transfer-encoding') !== '';
}

/** Applies the declared response: undeclared statuses are a bug; bodies are stripped to schema. */
export function renderResult(spec: RouteSpec, ctx: Context, result: HandlerResult): void {
  const declared = spec.responses[result.status];
  if (!declared) throw new AppError('internal', 500, 'Internal error', { cause: new Error(`undeclared status ${result.status} for ${spec.method} ${spec.path}`) });
  ctx.status = result.status;
  if (declared.schema === null || (result.type && declared.streams?.includes(result.type))) {
    if (result.type) ctx.type = result.type;
    if (result.body !== undefined) ctx.body = result.body;
    return;
  }
  ctx.body = declared.schema.parse(result.body);
}
