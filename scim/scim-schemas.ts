import SCIMMY from 'scimmy';

// The schemas this service provider speaks (RFC 7643 §4): core User with the enterprise extension,
// core Group. scimmy's definitions are the source of truth for attribute characteristics
// (type, caseExact, multiValued, returned); scim/ only adds case-insensitive path resolution.

export type Attribute = SCIMMY.Types.Attribute;
export type SchemaDefinition = SCIMMY.Types.SchemaDefinition;

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

// Extending the shared definition is process-global, but it is done once, here, at load, and
// never varies per request or directory (extend() is idempotent for the same definition).
SCIMMY.Schemas.User.extend(SCIMMY.Schemas.EnterpriseUser as never, false);

export const userDefinition: SchemaDefinition = SCIMMY.Schemas.User.definition;
export const groupDefinition: SchemaDefinition = SCIMMY.Schemas.Group.definition;
export const enterpriseDefinition: SchemaDefinition = SCIMMY.Schemas.EnterpriseUser.definition;

export interface ResolvedPath {
  /** Canonical path: `userName`, `name.givenName`, `urn:...:enterprise:2.0:User:manager.value`. */
  path: string;
  /** The schema the attribute belongs to (the core schema or an extension). */
  schema: string;
  /** Each attribute along the path, top-level first. */
  chain: Attribute[];
}

function isAttribute(a: unknown): a is Attribute {
  return a instanceof SCIMMY.Types.Attribute;
}

function findIn(attrs: readonly unknown[], name: string): Attribute | undefined {
  const lower = name.toLowerCase();
  return attrs.find((a): a is Attribute => isAttribute(a) && a.name.toLowerCase() === lower);
}

/** Extensions declared on a definition (scimmy keeps them among the attributes). */
export function extensionsOf(def: SchemaDefinition): SchemaDefinition[] {
  return (def.attributes as unknown[]).filter((a): a is SchemaDefinition => a instanceof SCIMMY.Types.SchemaDefinition);
}

/**
 * Resolves an attribute path case-insensitively (RFC 7643 §2.1: attribute names are
 * case-insensitive), with or without a schema URN prefix; null when the schema has no such
 * attribute. scimmy's own Filter only lower-cases the first letter of each name.
 */
export function resolvePath(def: SchemaDefinition, raw: string): ResolvedPath | null {
  let schema = def.id;
  let rest = raw;
  const lower = raw.toLowerCase();
  if (lower.startsWith('urn:')) {
    const owner = [def, ...extensionsOf(def)].find((d) => lower.startsWith(`${d.id.toLowerCase()}:`));
    if (!owner) return null;
    schema = owner.id;
    rest = raw.slice(owner.id.length + 1);
  }
  const owner = schema === def.id ? def : extensionsOf(def).find((d) => d.id === schema)!;
  const names = rest.split('.');
  const chain: Attribute[] = [];
  let attrs: readonly unknown[] = owner.attributes as unknown[];
  for (const name of names) {
    const attribute = name ? findIn(attrs, name) : undefined;
    if (!attribute) return null;
    chain.push(attribute);
    attrs = String(attribute.type) === 'complex' ? (attribute.subAttributes ?? []) : [];
  }
  const path = chain.map((a) => a.name).join('.');
  return { path: schema === def.id ? path : `${schema}:${path}`, schema, chain };
}

/** An extension's id when `raw` names the extension itself (`urn:...:enterprise:2.0:User`). */
export function resolveExtension(def: SchemaDefinition, raw: string): string | null {
  const lower = raw.toLowerCase();
  return extensionsOf(def).find((d) => d.id.toLowerCase() === lower)?.id ?? null;
}
