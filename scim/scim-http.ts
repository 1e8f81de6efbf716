import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { requestMeta } from '../src/http/org-context.ts';
import { authenticateDirectory } from '../src/modules/directories/directory-token.ts';
import type { DirectoryContext } from '../src/modules/directory-sync/directory-records.ts';
import { scimError, SCIM_CONTENT_TYPE } from './scim-errors.ts';
import type { ScimDeps } from './scim.routes.ts';

// The HTTP side of the SCIM edge: who is calling (bearer token → directory), the body, and how
// answers are written. The directory lives on ctx.state for this request only (never on a
// shared object: two directories' requests run interleaved).

export interface ScimState {
  dir: DirectoryContext;
  /** This directory's SCIM base URL (RFC 7644 §3.1), for meta.location and Location. */
  base: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (id: string) => UUID.test(id);

export function scimState(ctx: Context): ScimState {
  return ctx.state.scim as ScimState;
}

/** Every SCIM request names its directory and carries that directory's token (else 401). */
export function authenticateScim(deps: ScimDeps) {
  const base = deps.config.publicUrl.replace(/\/+$/, '');
  return async function authenticateDirectoryToken(ctx: Context, next: Next): Promise<void> {
    const directoryId = String(ctx.params.directoryId ?? '');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
    const found = match && isUuid(directoryId) ? await authenticateDirectory(deps, directoryId.toLowerCase(), match[1]!) : null;
    if (!found) throw scimError(401, null, 'A valid directory bearer token is required.');
    const state: ScimState = { dir: { ...found, meta: requestMeta(ctx) }, base: `${base}/scim/v2/${found.directoryId}` };
    ctx.state.scim = state;
    await next();
  };
}

/** RFC 7644 §3.1: bodies are application/scim+json; plain application/json is accepted too. */
export function parseScimBody(deps: ScimDeps) {
  // extendTypes is merged index by index into the defaults (lodash merge): listing only
  // scim+json would replace application/json, so both are named.
  const parse = bodyParser({
    enableTypes: ['json'], extendTypes: { json: ['application/json', 'application/scim+json'] }, jsonLimit: deps.config.bodyLimit,
    encoding: 'utf-8', parsedMethods: ['POST', 'PUT', 'PATCH'],
  });
  return async function parseScimJson(ctx: Context, next: Next): Promise<void> {
    if (['POST', 'PUT', 'PATCH'].includes(ctx.method) && !ctx.is('application/scim+json', 'application/json')) {
      throw scimError(400, 'invalidSyntax', 'Send the body as application/scim+json.');
    }
    await parse(ctx, async () => {
      refuseUnusable(ctx);
      await next();
    });
  };
}

/**
 * Input the service could not store or would misread is refused up front: a query parameter
 * given twice (Koa makes it an array: a second `filter` must not silently widen a list), and a
 * NUL or an unpaired surrogate anywhere (PostgreSQL text and jsonb refuse them).
 */
function refuseUnusable(ctx: Context): void {
  for (const [name, value] of Object.entries(ctx.query)) {
    if (Array.isArray(value)) throw scimError(400, name === 'filter' ? 'invalidFilter' : 'invalidSyntax', `The query parameter ${name} is given more than once.`);
    if (unstorable(value)) throw scimError(400, name === 'filter' ? 'invalidFilter' : 'invalidValue', `The query parameter ${name} contains a NUL or an unpaired surrogate.`);
  }
  if (unstorable(ctx.request.body)) throw scimError(400, 'invalidValue', 'The body contains a NUL or an unpaired surrogate.');
}

function unstorable(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed();
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => unstorable(k) || unstorable(v));
  return false;
}

/** An If-Match ETag (`W/"3"`) as the version it names; `*` or none: no condition (RFC 7232 §3.1). */
export function ifVersion(ctx: Context): number | undefined {
  const header = ctx.get('if-match').trim();
  if (!header || header === '*') return undefined;
  const match = /^(?:W\/)?"(\d{1,15})"$/.exec(header);
  // A tag we never issued cannot match the current version.
  if (!match) throw scimError(412, null, 'The resource has changed (If-Match does not match).');
  return Number(match[1]);
}

export function send(ctx: Context, status: number, body: Record<string, unknown>, headers: { etag?: string; location?: string } = {}): void {
  ctx.status = status;
  ctx.type = SCIM_CONTENT_TYPE;
  ctx.body = body;
  if (headers.etag) ctx.set('ETag', headers.etag);
  if (headers.location) ctx.set('Location', headers.location);
}
