import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.ts';
import type { Database } from '../src/db/database.ts';
import type { ApiKeyTokens } from '../src/modules/api-keys/api-key-token.ts';
import type { DirectorySyncService } from '../src/modules/directory-sync/directory-sync.service.ts';
import { findById, listOf, resourceTypes, schemas, serviceProviderConfig } from './scim-discovery.ts';
import { scimError, scimErrors } from './scim-errors.ts';
import { authenticateScim, parseScimBody, scimState, send } from './scim-http.ts';
import { groupHandlers } from './scim-group.handlers.ts';
import { userHandlers } from './scim-user.handlers.ts';

export interface ScimDeps {
  config: Config;
  db: Database;
  apiKeyTokens: ApiKeyTokens;
  logger: Logger;
  sync: DirectorySyncService;
}

const BASE = '/scim/v2/:directoryId';

// Known endpoints that do not take the method: 405; the optional features we do not offer: 501.
const known = /^\/(users|groups)(\/[^/]+)?$|^\/(serviceproviderconfig|resourcetypes|schemas)(\/.*)?$/i;
const unsupported = /^\/(bulk|\.search|me)$|^\/(users|groups)\/\.search$/i;

function unmatched(ctx: Context): never {
  const rest = ctx.path.replace(/^\/scim\/v2\/[^/]+/i, '');
  if (unsupported.test(rest)) throw scimError(501, null, 'This service provider does not support that operation.');
  if (known.test(rest)) throw scimError(405, null, `${ctx.method} is not allowed here.`);
  throw scimError(404, null, 'There is no such SCIM endpoint.');
}

/** The SCIM 2.0 service provider of each directory (RFC 7644), at /scim/v2/:directoryId. */
export function scimRoutes(deps: ScimDeps): Router {
  const router = new Router();
  const edge: Middleware[] = [scimErrors(), authenticateScim(deps), parseScimBody(deps)];
  const docs = `${deps.config.publicUrl.replace(/\/+$/, '')}/docs/scim`;

  router.get(`${BASE}/ServiceProviderConfig`, ...edge, (ctx) => send(ctx, 200, serviceProviderConfig(scimState(ctx).base, docs)));
  router.get(`${BASE}/ResourceTypes`, ...edge, (ctx) => send(ctx, 200, listOf(resourceTypes(scimState(ctx).base))));
  router.get(`${BASE}/ResourceTypes/:id`, ...edge, (ctx) => {
    const found = findById(resourceTypes(scimState(ctx).base), String(ctx.params.id));
    if (!found) throw scimError(404, null, 'No such resource type.');
    send(ctx, 200, found);
  });
  router.get(`${BASE}/Schemas`, ...edge, (ctx) => send(ctx, 200, listOf(schemas(scimState(ctx).base))));
  router.get(`${BASE}/Schemas/:id`, ...edge, (ctx) => {
    const found = findById(schemas(scimState(ctx).base), String(ctx.params.id));
    if (!found) throw scimError(404, null, 'No such schema.');
    send(ctx, 200, found);
  });

  const users = userHandlers(deps.sync);
  router.post(`${BASE}/Users`, ...edge, users.create);
  router.get(`${BASE}/Users`, ...edge, users.list);
  router.get(`${BASE}/Users/:id`, ...edge, users.get);
  router.put(`${BASE}/Users/:id`, ...edge, users.replace);
  router.patch(`${BASE}/Users/:id`, ...edge, users.patch);
  router.delete(`${BASE}/Users/:id`, ...edge, users.remove);

  const groups = groupHandlers(deps.sync);
  router.post(`${BASE}/Groups`, ...edge, groups.create);
  router.get(`${BASE}/Groups`, ...edge, groups.list);
  router.get(`${BASE}/Groups/:id`, ...edge, groups.get);
  router.put(`${BASE}/Groups/:id`, ...edge, groups.replace);
  router.patch(`${BASE}/Groups/:id`, ...edge, groups.patch);
  router.delete(`${BASE}/Groups/:id`, ...edge, groups.remove);

  // Last: anything else under a directory's base is still authenticated, then answered in SCIM.
  router.all(`${BASE}{/*rest}`, scimErrors(), authenticateScim(deps), unmatched);
  return router;
}
