import { resolveExtension, resolvePath, type SchemaDefinition } from './scim-schemas.ts';

// RFC 7644 §3.4.2.5 `attributes` / `excludedAttributes`, applied to a resource we built. Names are
// case-insensitive and may be sub-attributes (`name.givenName`) or extension attributes
// (`urn:...:enterprise:2.0:User:employeeNumber`); unknown names are ignored, as scimmy does.
// RFC 7643 §7: `id` is returned always (and `schemas`, which every resource carries).

/** [top-level key (attribute name or extension id), sub-attribute name or null for the whole]. */
type Selector = [string, string | null];

export interface Projection {
  include: Selector[] | null;
  exclude: Selector[];
}

const ALWAYS = new Set(['id', 'schemas']);

function selector(def: SchemaDefinition, raw: string): Selector | null {
  const name = raw.trim();
  if (!name) return null;
  const extension = resolveExtension(def, name);
  if (extension) return [extension, null];
  const resolved = resolvePath(def, name);
  if (!resolved) return null;
  const names = resolved.chain.map((a) => a.name);
  if (resolved.schema !== def.id) return [resolved.schema, names[0]!];
  return [names[0]!, names[1] ?? null];
}

function selectors(def: SchemaDefinition, list: string | undefined): Selector[] {
  return (list ?? '').split(',').map((n) => selector(def, n)).filter((s): s is Selector => s !== null);
}

export function parseProjection(def: SchemaDefinition, attributes?: string, excludedAttributes?: string): Projection {
  const include = attributes?.trim() ? selectors(def, attributes) : null;
  return { include, exclude: include ? [] : selectors(def, excludedAttributes) };
}

/** Whether a top-level attribute (`members`, `groups`) is returned: lets the service skip loading it. */
export function returns(p: Projection, top: string): boolean {
  if (p.include) return p.include.some(([key]) => key === top);
  return !p.exclude.some(([key, sub]) => key === top && sub === null);
}

type Json = Record<string, unknown>;

function pick(value: unknown, subs: string[]): unknown {
  const one = (v: unknown) => Object.fromEntries(Object.entries(v as Json).filter(([k]) => subs.includes(k)));
  if (Array.isArray(value)) return value.map(one).filter((v) => Object.keys(v).length > 0);
  return value && typeof value === 'object' ? one(value) : undefined;
}

function omit(value: unknown, subs: string[]): unknown {
  const one = (v: unknown) => Object.fromEntries(Object.entries(v as Json).filter(([k]) => !subs.includes(k)));
  if (Array.isArray(value)) return value.map(one);
  return value && typeof value === 'object' ? one(value) : value;
}

function group(list: Selector[]): Map<string, string[] | null> {
  const byTop = new Map<string, string[] | null>();
  for (const [top, sub] of list) {
    const seen = byTop.get(top);
    if (sub === null || seen === null) byTop.set(top, null);
    else byTop.set(top, [...(seen ?? []), sub]);
  }
  return byTop;
}

/** The resource as the client asked to see it. */
export function project(resource: Json, p: Projection): Json {
  if (p.include) {
    const out: Json = {};
    for (const key of ALWAYS) if (key in resource) out[key] = resource[key];
    const meta = resource.meta as Json | undefined;
    if (meta) out.meta = { resourceType: meta.resourceType };
    for (const [top, subs] of group(p.include)) {
      if (!(top in resource)) continue;
      const value = subs === null ? resource[top] : pick(resource[top], subs);
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) out[top] = value;
    }
    return out;
  }
  const out: Json = { ...resource };
  for (const [top, subs] of group(p.exclude)) {
    if (ALWAYS.has(top) || !(top in out)) continue;
    if (subs === null) delete out[top];
    else out[top] = omit(out[top], subs);
  }
  return out;
}
