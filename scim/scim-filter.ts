import type {
  AttributeType, CompareOp, DirectoryFilter, ElementCondition, FilterComparison, FilterCondition,
} from '../src/modules/directory-sync/directory-records.ts';
import { scimError } from './scim-errors.ts';
import { parseFilter, type FilterNode, type FilterValue } from './scim-filter-parser.ts';
import { resolvePath, type Attribute, type SchemaDefinition } from './scim-schemas.ts';

// RFC 7644 §3.4.2.2 filters → DirectoryFilter (disjunctive normal form) for the sync service:
// names canonicalised case-insensitively, values coerced to the attribute's type, `not` pushed
// down to the comparisons (De Morgan), and a cap on the size of the result.

/** Terms × conditions above which a filter is refused: the service turns each into SQL. */
export const MAX_DNF_TERMS = 64;
export const MAX_DNF_CONDITIONS = 256;

const invalid = (detail: string) => scimError(400, 'invalidFilter', detail);
type Term = FilterCondition[];

/** Parses and translates a `filter` query parameter against a resource's schema. */
export function translateFilter(def: SchemaDefinition, expression: string): DirectoryFilter {
  const dnf = toDnf(def, parseFilter(expression), false);
  if (dnf.reduce((n, term) => n + term.length, 0) > MAX_DNF_CONDITIONS) throw invalid('The filter is too complex.');
  return dnf;
}

function cross(left: Term[], right: Term[]): Term[] {
  const out: Term[] = [];
  for (const a of left) for (const b of right) out.push([...a, ...b]);
  if (out.length > MAX_DNF_TERMS) throw invalid('The filter is too complex.');
  return out;
}

function toDnf(def: SchemaDefinition, node: FilterNode, negated: boolean): Term[] {
  switch (node.kind) {
    case 'not':
      return toDnf(def, node.item, !negated);
    case 'and':
    case 'or': {
      // De Morgan: not (a and b) = not a or not b; not (a or b) = not a and not b.
      const conjunction = (node.kind === 'and') !== negated;
      const parts = node.items.map((item) => toDnf(def, item, negated));
      if (!conjunction) {
        const terms = parts.flat();
        if (terms.length > MAX_DNF_TERMS) throw invalid('The filter is too complex.');
        return terms;
      }
      return parts.reduce((acc, part) => cross(acc, part));
    }
    case 'compare':
      return [[comparison(def, node.path, node.op, node.value, negated)]];
    case 'element':
      if (negated) throw invalid('`not` over a value filter (`attr[...]`) is not supported.');
      return elementTerms(def, node);
  }
}

/** `emails[type eq "work" or type eq "home"].value co "x"`: one element condition per inner term. */
function elementTerms(def: SchemaDefinition, node: Extract<FilterNode, { kind: 'element' }>): Term[] {
  const parent = resolvePath(def, node.path);
  const attribute = parent?.chain.at(-1);
  if (!parent || !attribute || parent.chain.length !== 1 || String(attribute.type) !== 'complex' || !attribute.config.multiValued) {
    throw invalid(`'${node.path}' is not a multi-valued complex attribute.`);
  }
  const inner = toDnf(def, prefixed(node.filter, node.path), false);
  return inner.map((term) => {
    const conditions = term.map((c) => subCondition(parent.path, c));
    if (node.sub) conditions.push(sub(def, parent.path, node.sub.path, node.sub.op, node.sub.value));
    return [{ multiValued: parent.path, conditions } satisfies ElementCondition];
  });
}

/** The value filter's names are relative to its attribute: `type` in `emails[type eq "work"]`. */
function prefixed(node: FilterNode, parent: string): FilterNode {
  switch (node.kind) {
    case 'compare': return { ...node, path: `${parent}.${node.path}` };
    case 'not': return { kind: 'not', item: prefixed(node.item, parent) };
    case 'and': case 'or': return { kind: node.kind, items: node.items.map((item) => prefixed(item, parent)) };
    case 'element': throw invalid('Value filters cannot be nested.');
  }
}

/** A condition inside a value filter must be on a sub-attribute of the same attribute. */
function subCondition(parent: string, condition: FilterCondition): FilterComparison {
  if ('multiValued' in condition && condition.multiValued === parent && condition.conditions.length === 1) {
    return condition.conditions[0]!;
  }
  throw invalid(`A value filter on '${parent}' may only compare its own sub-attributes.`);
}

function sub(def: SchemaDefinition, parent: string, path: string, op: string, value: FilterValue | undefined): FilterComparison {
  const c = comparison(def, `${parent}.${path}`, op, value, false);
  if (!('multiValued' in c)) throw invalid(`'${path}' is not a sub-attribute of '${parent}'.`);
  return c.conditions[0]!;
}

/** One comparison; on a sub-attribute of a multi-valued attribute, an element condition of one. */
function comparison(def: SchemaDefinition, rawPath: string, op: string, value: FilterValue | undefined, negated: boolean): FilterCondition {
  const resolved = resolvePath(def, rawPath);
  if (!resolved) throw invalid(`Unknown attribute '${rawPath}' in the filter.`);
  let chain = resolved.chain;
  // A multi-valued complex attribute compared directly means its `value` (RFC 7644 §3.4.2.2).
  const last = chain.at(-1)!;
  if (String(last.type) === 'complex') {
    const value = last.subAttributes?.find((a) => a.name === 'value');
    if (!last.config.multiValued || !value) throw invalid(`'${rawPath}' is complex: compare one of its sub-attributes.`);
    chain = [...chain, value];
  }
  if (chain.some((a) => a.config.returned === false || a.config.returned === 'never')) {
    throw invalid(`'${rawPath}' cannot be filtered on.`);
  }
  const attribute = chain.at(-1)!;
  const compared = coerce(attribute, rawPath, op as CompareOp, value, negated);
  const multi = chain.findIndex((a) => a.config.multiValued && String(a.type) === 'complex');
  const names = (list: Attribute[]) => list.map((a) => a.name).join('.');
  const schemaPrefix = resolved.path.startsWith('urn:') ? `${resolved.schema}:` : '';
  if (multi < 0) return { path: schemaPrefix + names(chain), ...compared };
  return { multiValued: schemaPrefix + names(chain.slice(0, multi + 1)), conditions: [{ path: names(chain.slice(multi + 1)), ...compared }] };
}

const ordered = new Set(['gt', 'ge', 'lt', 'le']);
const substring = new Set(['co', 'sw', 'ew']);

/** RFC 7644 §3.4.2.2: the value is of the attribute's type; booleans and binaries have no order. */
function coerce(attribute: Attribute, path: string, op: CompareOp, value: FilterValue | undefined, not: boolean): Omit<FilterComparison, 'path'> {
  const type = String(attribute.type) as AttributeType;
  const caseExact = attribute.config.caseExact === true;
  // `attr eq null` asks for absence, `attr ne null` for presence (RFC 7643 §2.5: null is unassigned).
  if (value === null && (op === 'eq' || op === 'ne')) return { op: 'pr', not: op === 'eq' ? !not : not, type, caseExact };
  if (op === 'pr') return { op, not, type, caseExact };
  if (value === undefined || value === null) throw invalid(`The '${op}' comparison on '${path}' has no value.`);
  if ((type === 'boolean' || type === 'binary') && (ordered.has(op) || substring.has(op))) {
    throw invalid(`'${op}' cannot compare the ${type} attribute '${path}'.`);
  }
  if (substring.has(op) && type !== 'string' && type !== 'reference') throw invalid(`'${op}' compares strings only ('${path}').`);
  return { op, not, type, caseExact, value: typedValue(type, path, value) };
}

function typedValue(type: AttributeType, path: string, value: string | number | boolean): string | number | boolean {
  switch (type) {
    case 'boolean': {
      // Entra sends booleans as strings ("True"/"False").
      const text = String(value).toLowerCase();
      if (text === 'true' || text === 'false') return text === 'true';
      throw invalid(`'${path}' is a boolean.`);
    }
    case 'dateTime': {
      const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : null;
      if (!date || Number.isNaN(date.getTime())) throw invalid(`'${path}' is a dateTime (RFC 3339).`);
      return date.toISOString();
    }
    case 'integer':
    case 'decimal': {
      const n = typeof value === 'number' ? value : Number.NaN;
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) throw invalid(`'${path}' is a number.`);
      return n;
    }
    default:
      if (typeof value === 'boolean') throw invalid(`'${path}' is a string.`);
      return String(value);
  }
}
