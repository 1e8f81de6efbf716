import type { Context } from 'koa';
import type { DirectorySyncService } from '../src/modules/directory-sync/directory-sync.service.ts';
import { parseProjection, project, returns } from './scim-attributes.ts';
import { scimError } from './scim-errors.ts';
import { ifVersion, isUuid, scimState, send } from './scim-http.ts';
import { listQuery, listResponse } from './scim-list.ts';
import { patchUserResource } from './scim-patch.ts';
import { userDefinition } from './scim-schemas.ts';
import { etag, patchableUser, userInput, userResource } from './scim-user.ts';

// /Users (RFC 7644 §3.3, §3.4, §3.5, §3.6): each handler reads the request, calls one service
// method (PATCH: read, apply, replace), and writes the resource.

function userId(ctx: Context): string {
  const id = String(ctx.params.id);
  // A malformed id can name no user: 404, as for an unknown one (and never reaches the database).
  if (!isUuid(id)) throw scimError(404, null, `User ${id} not found.`);
  return id.toLowerCase();
}

function projection(ctx: Context) {
  const q = ctx.query as Record<string, string | undefined>;
  return parseProjection(userDefinition, q.attributes, q.excludedAttributes);
}

export function userHandlers(sync: DirectorySyncService) {
  return {
    async create(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const user = await sync.createUser(dir, userInput(ctx.request.body));
      const resource = userResource(user, [], base);
      send(ctx, 201, project(resource, projection(ctx)), { etag: etag(user.version), location: `${base}/Users/${user.id}` });
    },
    async list(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const query = listQuery(userDefinition, ctx.query);
      const p = projection(ctx);
      const page = await sync.listUsers(dir, query, { groups: returns(p, 'groups') });
      const resources = page.items.map(({ user, groups }) => project(userResource(user, groups, base), p));
      send(ctx, 200, listResponse(page.totalResults, query.startIndex, resources));
    },
    async get(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const { user, groups } = await sync.getUser(dir, userId(ctx));
      send(ctx, 200, project(userResource(user, groups, base), projection(ctx)), { etag: etag(user.version) });
    },
    async replace(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const id = userId(ctx);
      const user = await sync.replaceUser(dir, id, userInput(ctx.request.body), ifVersion(ctx));
      send(ctx, 200, project(userResource(user, undefined, base), projection(ctx)), { etag: etag(user.version) });
    },
    async patch(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const id = userId(ctx);
      const expected = ifVersion(ctx);
      const current = await sync.getUser(dir, id);
      if (expected !== undefined && expected !== current.user.version) throw scimError(412, null, 'The resource has changed (If-Match does not match).');
      const patched = await patchUserResource(patchableUser(current.user), ctx.request.body);
      // Pass the version we patched: a concurrent write in between is a 412, not a lost update.
      const user = patched ? await sync.replaceUser(dir, id, userInput(patched), current.user.version) : current.user;
      send(ctx, 200, project(userResource(user, patched ? undefined : current.groups, base), projection(ctx)), { etag: etag(user.version) });
    },
    async remove(ctx: Context) {
      const { dir } = scimState(ctx);
      await sync.deleteUser(dir, userId(ctx), ifVersion(ctx));
      ctx.status = 204;
    },
  };
}
