import type { DirectoryGroupInput, DirectoryGroupRecord, MemberRef } from '../src/modules/directory-sync/directory-records.ts';
import { normaliseResource } from './scim-dialects.ts';
import { scimError } from './scim-errors.ts';
import { GROUP_SCHEMA, groupDefinition } from './scim-schemas.ts';
import { coerceIn, etag } from './scim-user.ts';

// SCIM Group (RFC 7643 §4.2) ⇄ DirectoryGroupInput and member ids.

type Json = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Member values are our directory user ids; anything else cannot be one (RFC 7644 §3.12 invalidValue). */
export function memberId(value: unknown): string {
  if (typeof value === 'string' && UUID.test(value.trim())) return value.trim().toLowerCase();
  throw scimError(400, 'invalidValue', `'${String(value)}' is not the id of a user of this directory.`);
}

export function memberIds(members: unknown): string[] {
  if (members === undefined || members === null) return [];
  const list = Array.isArray(members) ? members : [members];
  return [...new Set(list.map((m) => memberId(m && typeof m === 'object' ? (m as Json).value : m)))];
}

/** A POST/PUT body: the group and its members (Okta sends members in the body too). */
export function groupInput(body: unknown): { input: DirectoryGroupInput; memberIds: string[] } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw scimError(400, 'invalidSyntax', 'The body must be a Group resource.');
  const raw = normaliseResource(groupDefinition, body as Json);
  const members = Object.entries(raw).find(([k]) => k.toLowerCase() === 'members')?.[1];
  const resource = coerceIn(groupDefinition, { ...raw, members: undefined, id: undefined, meta: undefined });
  const displayName = typeof resource.displayName === 'string' ? resource.displayName.trim() : '';
  if (!displayName) throw scimError(400, 'invalidValue', 'displayName is required.');
  const externalId = typeof resource.externalId === 'string' && resource.externalId.trim() ? resource.externalId.trim() : null;
  return { input: { displayName, externalId }, memberIds: memberIds(members) };
}

/** Members as returned: a display name when the service read them, the bare id when we just wrote them. */
type Member = MemberRef | { id: string; userName?: undefined };

export function groupResource(record: DirectoryGroupRecord, members: Member[] | undefined, base: string): Json {
  return {
    schemas: [GROUP_SCHEMA],
    id: record.id,
    ...(record.externalId ? { externalId: record.externalId } : {}),
    displayName: record.displayName,
    ...(members ? { members: members.map((m) => ({ value: m.id, ...(m.userName ? { display: m.userName } : {}), $ref: `${base}/Users/${m.id}`, type: 'User' })) } : {}),
    meta: {
      resourceType: 'Group',
      created: record.createdAt.toISOString(),
      lastModified: record.updatedAt.toISOString(),
      location: `${base}/Groups/${record.id}`,
      version: etag(record.version),
    },
  };
}
