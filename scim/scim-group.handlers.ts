import type { Context } from 'koa';
import type { DirectorySyncService } from '../src/modules/directory-sync/directory-sync.service.ts';
import { parseProjection, project, returns } from './scim-attributes.ts';
import { scimError } from './scim-errors.ts';
import { groupInput, groupResource } from './scim-group.ts';
import { ifVersion, isUuid, scimState, send } from './scim-http.ts';
import { listQuery, listResponse } from './scim-list.ts';
import { groupChange } from './scim-patch.ts';
import { groupDefinition } from './scim-schemas.ts';
import { etag } from './scim-user.ts';

// /Groups (RFC 7644 §3.3–§3.6). Members are loaded only when they are returned: Entra reads
// groups with `excludedAttributes=members`, and a group may have thousands.

function groupId(ctx: Context): string {
  const id = String(ctx.params.id);
  if (!isUuid(id)) throw scimError(404, null, `Group ${id} not found.`);
  return id.toLowerCase();
}

function projection(ctx: Context) {
  const q = ctx.query as Record<string, string | undefined>;
  return parseProjection(groupDefinition, q.attributes, q.excludedAttributes);
}

export function groupHandlers(sync: DirectorySyncService) {
  return {
    async create(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const { input, memberIds } = groupInput(ctx.request.body);
      const group = await sync.createGroup(dir, input, memberIds);
      // Okta sends members in the body and reads them back from the answer.
      const members = memberIds.map((id) => ({ id }));
      send(ctx, 201, project(groupResource(group, members, base), projection(ctx)), { etag: etag(group.version), location: `${base}/Groups/${group.id}` });
    },
    async list(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const query = listQuery(groupDefinition, ctx.query);
      const p = projection(ctx);
      const page = await sync.listGroups(dir, query, { members: returns(p, 'members') });
      const resources = page.items.map(({ group, members }) => project(groupResource(group, members, base), p));
      send(ctx, 200, listResponse(page.totalResults, query.startIndex, resources));
    },
    async get(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const p = projection(ctx);
      const { group, members } = await sync.getGroup(dir, groupId(ctx), { members: returns(p, 'members') });
      send(ctx, 200, project(groupResource(group, members, base), p), { etag: etag(group.version) });
    },
    async replace(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const id = groupId(ctx);
      const { input, memberIds } = groupInput(ctx.request.body);
      const group = await sync.replaceGroup(dir, id, input, memberIds, ifVersion(ctx));
      send(ctx, 200, project(groupResource(group, memberIds.map((m) => ({ id: m })), base), projection(ctx)), { etag: etag(group.version) });
    },
    async patch(ctx: Context) {
      const { dir, base } = scimState(ctx);
      const id = groupId(ctx);
      const group = await sync.patchGroup(dir, id, groupChange(ctx.request.body, id), ifVersion(ctx));
      ctx.set('ETag', etag(group.version));
      // RFC 7644 §3.5.2: 204 unless the client asked for attributes back.
      if (!ctx.query.attributes && !ctx.query.excludedAttributes) { ctx.status = 204; return; }
      const p = projection(ctx);
      const read = await sync.getGroup(dir, id, { members: returns(p, 'members') });
      send(ctx, 200, project(groupResource(read.group, read.members, base), p), { etag: etag(read.group.version) });
    },
    async remove(ctx: Context) {
      const { dir } = scimState(ctx);
      await sync.deleteGroup(dir, groupId(ctx), ifVersion(ctx));
      ctx.status = 204;
    },
  };
}
