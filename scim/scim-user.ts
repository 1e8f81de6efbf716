import type { DirectoryUserInput, DirectoryUserRecord, GroupRef } from '../src/modules/directory-sync/directory-records.ts';
import { normaliseResource } from './scim-dialects.ts';
import { scimError, viaScimmy } from './scim-errors.ts';
import { ENTERPRISE_SCHEMA, USER_SCHEMA, userDefinition, type SchemaDefinition } from './scim-schemas.ts';

// SCIM User (RFC 7643 §4.1) ⇄ DirectoryUserInput / DirectoryUserRecord.

type Json = Record<string, unknown>;

/** Never stored, never returned: `password` (returned "never", and Gatehouse does not take IdP passwords). */
const NOT_STORED = ['id', 'meta', 'groups', 'password'];

function withoutKeys(body: Json, keys: string[]): Json {
  return Object.fromEntries(Object.entries(body).filter(([k]) => !keys.includes(k.toLowerCase())));
}

interface Email { value?: string; type?: string; primary?: boolean }

/** The sign-in address: the primary one, else the work one, else the first (issue 5). */
export function signInEmail(emails: Email[]): string | null {
  const chosen = emails.find((e) => e.primary === true && e.value) ?? emails.find((e) => e.type === 'work' && e.value) ?? emails.find((e) => e.value);
  return chosen?.value ?? null;
}

/**
 * scimmy checks each attribute against the schema (types, required attributes, canonical
 * values). The definition's coerce() is used rather than `new Schemas.User()`, which does the
 * same checks at twice the cost (bulk provisioning is CPU-bound here); its one extra check, a
 * `schemas` list that names another resource type, is made here (RFC 7643 §3).
 */
export function coerceIn(def: SchemaDefinition, body: Json): Json {
  const schemas = body.schemas;
  if (Array.isArray(schemas) && schemas.length && !schemas.includes(def.id)) {
    throw scimError(400, 'invalidSyntax', `The body's schemas do not include ${def.id}.`);
  }
  return viaScimmy(() => JSON.parse(JSON.stringify(def.coerce(body, 'in'))) as Json);
}

/** A POST/PUT body (or a patched resource) as the sync service's input. */
export function userInput(body: unknown): DirectoryUserInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw scimError(400, 'invalidSyntax', 'The body must be a User resource.');
  const cleaned = withoutKeys(normaliseResource(userDefinition, body as Json), NOT_STORED);
  const resource = coerceIn(userDefinition, cleaned);
  delete resource.meta;
  delete resource.password;
  const userName = typeof resource.userName === 'string' ? resource.userName.trim() : '';
  if (!userName) throw scimError(400, 'invalidValue', 'userName is required.');
  const emails = ((resource.emails as Email[] | undefined) ?? []).map((e) => (e.value ? { ...e, value: e.value.trim().toLowerCase() } : e));
  if (emails.length) resource.emails = emails;
  const name = (resource.name as Json | undefined) ?? {};
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
  return {
    userName,
    externalId: text(resource.externalId),
    // RFC 7643 leaves `active` to the provider. Left out, a new user is active and an existing
    // one keeps their state: a PUT without it must not bring a suspended person back.
    active: typeof resource.active === 'boolean' ? resource.active : undefined,
    displayName: text(resource.displayName),
    givenName: text(name.givenName),
    familyName: text(name.familyName),
    email: signInEmail(emails),
    resource,
  };
}

export const etag = (version: number) => `W/"${version}"`;

/** The resource as the IdP sees it: what it sent, with the service's id, state and meta. */
export function userResource(record: DirectoryUserRecord, groups: GroupRef[] | undefined, base: string): Json {
  const resource: Json = { ...record.resource };
  const schemas = [USER_SCHEMA, ...(resource[ENTERPRISE_SCHEMA] ? [ENTERPRISE_SCHEMA] : [])];
  return {
    ...resource,
    schemas,
    id: record.id,
    ...(record.externalId ? { externalId: record.externalId } : {}),
    userName: record.userName,
    active: record.active,
    ...(groups ? { groups: groups.map((g) => ({ value: g.id, display: g.displayName, $ref: `${base}/Groups/${g.id}`, type: 'direct' })) } : {}),
    meta: {
      resourceType: 'User',
      created: record.createdAt.toISOString(),
      lastModified: record.updatedAt.toISOString(),
      location: `${base}/Users/${record.id}`,
      version: etag(record.version),
    },
  };
}

/** The current resource in the shape scimmy's PatchOp patches (no server-owned attributes). */
export function patchableUser(record: DirectoryUserRecord): Json {
  const resource: Json = { ...record.resource, userName: record.userName, active: record.active };
  if (record.externalId) resource.externalId = record.externalId;
  return resource;
}
