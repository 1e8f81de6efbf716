import SCIMMY from 'scimmy';
import type { GroupChange } from '../src/modules/directory-sync/directory-records.ts';
import { normaliseOperation, type PatchOperation } from './scim-dialects.ts';
import { scimError, viaScimmy } from './scim-errors.ts';
import { parseFilter, type FilterNode } from './scim-filter-parser.ts';
import { groupDefinition, PATCH_OP, userDefinition, type SchemaDefinition } from './scim-schemas.ts';
import { memberId, memberIds } from './scim-group.ts';

// RFC 7644 §3.5.2 PATCH. Users: the operations are applied by scimmy's PatchOp to the current
// resource. Groups: translated to a GroupChange without loading the members, so a PATCH naming
// N members costs N rows whatever the group's size (issue 5, "built for volume").

type Json = Record<string, unknown>;

export const MAX_OPERATIONS = 1000;

function operations(def: SchemaDefinition, body: unknown): PatchOperation[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw scimError(400, 'invalidSyntax', 'The body must be a PatchOp message.');
  const { schemas, Operations } = body as Json;
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP)) throw scimError(400, 'invalidSyntax', `A PATCH body has schemas ["${PATCH_OP}"].`);
  if (!Array.isArray(Operations) || Operations.length === 0) throw scimError(400, 'invalidValue', 'A PATCH body has at least one operation.');
  if (Operations.length > MAX_OPERATIONS) throw scimError(413, null, `At most ${MAX_OPERATIONS} operations per PATCH.`);
  return Operations.map((op) => normaliseOperation(def, op));
}

const typedElement = /^([A-Za-z]\w*)\[\s*type\s+eq\s+"([^"]*)"\s*\]\.([A-Za-z]\w*)$/i;

/**
 * Entra adds `emails[type eq "work"].value` to a user with no work email: scimmy answers noTarget
 * (there is no element to set); the intent is a new element `{type: "work", value}`.
 */
function addMissingElement(current: Json, op: PatchOperation): PatchOperation {
  const match = op.path && (op.op === 'add' || op.op === 'replace') ? typedElement.exec(op.path) : null;
  if (!match) return op;
  const [, attr, type, sub] = match as unknown as [string, string, string, string];
  const key = Object.keys(current).find((k) => k.toLowerCase() === attr.toLowerCase());
  const list = key ? current[key] : undefined;
  const exists = Array.isArray(list) && list.some((e) => String((e as Json)?.type ?? '').toLowerCase() === type.toLowerCase());
  return exists ? op : { op: 'add', path: attr, value: [{ type, [sub]: op.value }] };
}

/** The user resource after the PATCH, or null when nothing changed. */
export async function patchUserResource(current: Json, body: unknown): Promise<Json | null> {
  const ops = operations(userDefinition, body).map((op) => addMissingElement(current, op));
  const message = new SCIMMY.Messages.PatchOp({ schemas: [PATCH_OP], Operations: ops } as never);
  const instance = viaScimmy(() => new SCIMMY.Schemas.User(current, 'both'));
  try {
    const patched = await message.apply(instance as never);
    return patched ? (JSON.parse(JSON.stringify(patched)) as Json) : null;
  } catch (err) {
    if (err instanceof TypeError) throw scimError(400, 'invalidValue', err.message);
    throw err;
  }
}

/** `members[value eq "a" or value eq "b"]` → the ids it names (nothing else is a member filter). */
function filteredIds(node: FilterNode): string[] {
  if (node.kind === 'or') return node.items.flatMap(filteredIds);
  if (node.kind === 'compare' && node.path.toLowerCase() === 'value' && node.op === 'eq') return [memberId(node.value)];
  throw scimError(400, 'invalidFilter', 'A members filter in a PATCH path compares `value eq "<id>"`.');
}

class ChangeBuilder {
  readonly change: GroupChange = { addMembers: [], removeMembers: [], removeAllMembers: false };
  readonly #groupId: string | null;

  constructor(groupId: string | null) {
    this.#groupId = groupId;
  }

  add(ids: string[]): void {
    const remove = new Set(ids);
    this.change.removeMembers = this.change.removeMembers.filter((id) => !remove.has(id));
    this.change.addMembers = [...new Set([...this.change.addMembers, ...ids])];
  }

  remove(ids: string[]): void {
    const gone = new Set(ids);
    this.change.addMembers = this.change.addMembers.filter((id) => !gone.has(id));
    if (!this.change.removeAllMembers) this.change.removeMembers = [...new Set([...this.change.removeMembers, ...ids])];
  }

  /** `remove members` (no filter) and Okta's replace of all members: everyone goes first. */
  clear(): void {
    this.change.removeAllMembers = true;
    this.change.addMembers = [];
    this.change.removeMembers = [];
  }

  set(attribute: string, value: unknown, op: string): void {
    const name = attribute.toLowerCase();
    if (name === 'members') {
      if (op === 'replace') this.clear();
      return op === 'remove' ? (value === undefined ? this.clear() : this.remove(memberIds(value))) : this.add(memberIds(value));
    }
    if (name === 'displayname') {
      if (op === 'remove' || typeof value !== 'string' || !value.trim()) throw scimError(400, 'invalidValue', 'displayName is required.');
      this.change.displayName = value.trim();
    } else if (name === 'externalid') {
      if (op !== 'remove' && value !== null && typeof value !== 'string') throw scimError(400, 'invalidValue', 'externalId is a string.');
      this.change.externalId = op === 'remove' || !value || !(value as string).trim() ? null : (value as string).trim();
    } else if (name === 'id' && op !== 'remove' && typeof value === 'string' && value.toLowerCase() === this.#groupId) {
      // Okta renames with `{op: replace, value: {id, displayName}}`: restating the id changes nothing.
    } else if (name === 'id' || name === 'meta' || name === 'schemas') {
      throw scimError(400, 'mutability', `'${attribute}' cannot be changed.`);
    } else {
      throw scimError(400, 'invalidPath', `A Group has no attribute '${attribute}' that can be patched.`);
    }
  }
}

/** A group PATCH as the change it makes (`groupId`: the patched group, which a value may restate). */
export function groupChange(body: unknown, groupId: string | null = null): GroupChange {
  const builder = new ChangeBuilder(groupId?.toLowerCase() ?? null);
  for (const op of operations(groupDefinition, body)) {
    if (!['add', 'remove', 'replace'].includes(op.op)) throw scimError(400, 'invalidSyntax', `Unknown PATCH op '${String(op.op)}'.`);
    if (op.path === undefined || op.path === '') {
      if (op.op === 'remove') throw scimError(400, 'noTarget', 'A remove operation needs a path.');
      if (!op.value || typeof op.value !== 'object' || Array.isArray(op.value)) throw scimError(400, 'invalidValue', 'Without a path, the value is an object of attributes.');
      for (const [key, value] of Object.entries(op.value as Json)) if (value !== undefined) builder.set(key, value, op.op);
      continue;
    }
    if (typeof op.path !== 'string') throw scimError(400, 'invalidPath', 'The path is a string.');
    const filtered = /^\s*members\s*\[(.*)\]\s*$/is.exec(op.path);
    if (filtered) {
      if (op.op !== 'remove') throw scimError(400, 'invalidPath', 'Add members with path `members` and a value list.');
      builder.remove(filteredIds(parseFilter(filtered[1]!)));
      continue;
    }
    if (op.op !== 'remove' && op.value === undefined) throw scimError(400, 'invalidValue', `The '${op.op}' operation needs a value.`);
    builder.set(op.path.trim(), op.value, op.op);
  }
  return builder.change;
}
