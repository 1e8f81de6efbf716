import { ENTERPRISE_SCHEMA, enterpriseDefinition, resolvePath, type Attribute, type SchemaDefinition } from './scim-schemas.ts';

// What real clients send that the RFC does not quite say, normalised before scimmy sees it.
// Microsoft Entra ID (learn.microsoft.com, "Develop a SCIM endpoint... known issues"): capitalised
// PATCH ops (`Replace`, `Add`, `Remove`), booleans as strings (`"False"`), the enterprise
// `manager` as a bare id string, `{value}`, or a PATCH on path `...:User:manager` whose empty
// value means "remove the manager". Okta (developer.okta.com SCIM 2.0 guide): PUT with the whole
// user, `{op: replace, value: {active: false}}` to deactivate, members in Group POST/PUT bodies.

type Json = Record<string, unknown>;

const MANAGER_PATH = `${ENTERPRISE_SCHEMA}:manager`.toLowerCase();

function stringBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lower = value.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : value;
}

/** Booleans sent as strings, anywhere in a value for `attribute` (sub-attributes included). */
function attributeValue(attribute: Attribute | undefined, value: unknown): unknown {
  if (!attribute) return value;
  if (String(attribute.type) === 'boolean') return Array.isArray(value) ? value.map(stringBoolean) : stringBoolean(value);
  if (String(attribute.type) !== 'complex' || !value || typeof value !== 'object') return value;
  const subs = attribute.subAttributes ?? [];
  const one = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, attributeValue(subs.find((s) => s.name.toLowerCase() === k.toLowerCase()), x)]))
    : v);
  return Array.isArray(value) ? value.map(one) : one(value);
}

/**
 * Entra's `manager` shapes: `"id"`, `{value: "id"}` and `[{value: "id", $ref: null}]` are the
 * same; `""`, `{value: ""}` and null mean none.
 */
export function managerValue(value: unknown): { value: string } | null {
  const one = Array.isArray(value) ? value[0] : value;
  const id = typeof one === 'string' ? one : (one as Json | null | undefined)?.value;
  if (typeof id !== 'string' || !id.trim()) return null;
  const rest = one && typeof one === 'object' ? Object.fromEntries(Object.entries(one as Json).filter(([, v]) => v !== null && v !== undefined)) : {};
  return { ...rest, value: id.trim() };
}

function enterprise(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value as Json)) {
    if (key.toLowerCase() === 'manager') {
      const manager = managerValue(v);
      if (manager) out.manager = manager;
    } else out[key] = attributeValue(resolvePath(enterpriseDefinition, key)?.chain.at(-1), v);
  }
  return out;
}

/** A resource body (POST/PUT, or a PATCH value without a path) as the schema expects it. */
export function normaliseResource(def: SchemaDefinition, body: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase();
    if (lower === ENTERPRISE_SCHEMA.toLowerCase()) out[ENTERPRISE_SCHEMA] = enterprise(value);
    else if (lower === MANAGER_PATH) {
      const manager = managerValue(value);
      if (manager) out[key] = manager;
    } else out[key] = attributeValue(resolvePath(def, key)?.chain.at(-1), value);
  }
  return out;
}

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

/** One PATCH operation: op lower-cased, string booleans, Entra's manager forms. */
export function normaliseOperation(def: SchemaDefinition, raw: unknown): PatchOperation {
  const { op, path, value } = (raw && typeof raw === 'object' ? raw : {}) as Json;
  const operation: PatchOperation = { op: typeof op === 'string' ? op.toLowerCase() : (op as string) };
  if (path !== undefined) operation.path = path as string;
  if (value !== undefined) operation.value = value;
  if (typeof path === 'string' && path.toLowerCase() === MANAGER_PATH && operation.op !== 'remove') {
    const manager = managerValue(value);
    return manager ? { ...operation, value: manager } : { op: 'remove', path };
  }
  if (typeof path === 'string') {
    const attribute = resolvePath(def, path.replace(/\[[^\]]*\]/g, ''))?.chain.at(-1);
    if (value !== undefined) operation.value = attributeValue(attribute, value);
  } else if (value && typeof value === 'object' && !Array.isArray(value)) {
    operation.value = normaliseResource(def, value as Json);
  }
  return operation;
}
