import { AppError } from '../../errors.ts';
import type { DirectoryFilter, ElementCondition, FilterComparison, FilterCondition } from './directory-records.ts';
import { isUuid } from './directory-errors.ts';
import { bind, join, raw, sql, type SqlFragment } from './sql-fragment.ts';

// RFC 7644 §3.4.2.2 filters, already in disjunctive normal form (directory-records.ts), turned into
// a WHERE fragment over the indexed columns of directory_users (alias `du`) or directory_groups
// (alias `g`). Values are always parameters, never SQL text; attribute names come only from the
// fixed maps below or travel as parameters themselves (resource paths). A negated comparison is
// made NULL-safe (NOT COALESCE(..., false)), so `not` is the exact inverse and `ne` matches a
// resource that lacks the attribute, as `not (x eq v)` does.

export type FilterTarget = 'users' | 'groups';

interface Column {
  sql: SqlFragment;
  kind: 'text' | 'uuid' | 'boolean' | 'timestamp';
  /**
   * A stored lower(column) (migration 0012): case-insensitive comparisons use it, since under
   * row-level security an index on lower(column) is never used (lower() is not leakproof).
   */
  lowered?: SqlFragment;
}

const column = (text: string, kind: Column['kind'], lowered?: string): Column => ({ sql: raw(text), kind, lowered: lowered ? raw(lowered) : undefined });

const userColumns: Record<string, Column> = {
  id: column('du.id', 'uuid'),
  userName: column('du.user_name', 'text', 'du.user_name_lower'),
  externalId: column('du.external_id', 'text'),
  active: column('du.active', 'boolean'),
  displayName: column('du.display_name', 'text'),
  'name.givenName': column('du.given_name', 'text'),
  'name.familyName': column('du.family_name', 'text'),
  'meta.created': column('du.created_at', 'timestamp'),
  'meta.lastModified': column('du.updated_at', 'timestamp'),
};

const groupColumns: Record<string, Column> = {
  id: column('g.id', 'uuid'),
  displayName: column('g.display_name', 'text', 'g.display_name_lower'),
  externalId: column('g.external_id', 'text'),
  'meta.created': column('g.created_at', 'timestamp'),
  'meta.lastModified': column('g.updated_at', 'timestamp'),
};

/** Sub-attributes of the relations kept as rows rather than in `resource`. */
const userGroupColumns: Record<string, Column> = { value: column('fg.id', 'uuid'), display: column('fg.display_name', 'text') };
const groupMemberColumns: Record<string, Column> = { value: column('fm.directory_user_id', 'uuid'), display: column('fu.display_name', 'text') };

/** The multi-valued attributes of the core User schema (RFC 7643 §4.1.2), kept as arrays in `resource`. */
const userMultiValued = new Set(['emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'entitlements', 'roles', 'x509Certificates']);

export function invalidFilter(detail: string): AppError {
  return new AppError('scim.invalid_filter', 400, detail);
}

/** `%`, `_` and the escape character itself match literally (PostgreSQL's default LIKE escape is `\`). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

/** The WHERE fragment for `filter`; `TRUE` when there is none. */
export function compileFilter(filter: DirectoryFilter | null, target: FilterTarget): SqlFragment {
  if (!filter || filter.length === 0) return raw('TRUE');
  const terms = filter.map((term) => (term.length === 0 ? raw('TRUE') : sql`(${join(term.map((c) => condition(c, target)), ' AND ')})`));
  return terms.length === 1 ? terms[0]! : sql`(${join(terms, ' OR ')})`;
}

function condition(c: FilterCondition, target: FilterTarget): SqlFragment {
  if ('multiValued' in c) return element(c, target);
  const dot = c.path.startsWith('urn:') ? -1 : c.path.indexOf('.');
  const head = dot > 0 ? c.path.slice(0, dot) : c.path;
  // `emails.value co "x"` is an element condition of one comparison (RFC 7644 §3.4.2.2); a bare
  // `emails eq "x"` compares the primary sub-attribute, `value`.
  if (dot > 0 && isMultiValued(head, target)) return element({ multiValued: head, conditions: [{ ...c, path: c.path.slice(dot + 1) }] }, target);
  if (isMultiValued(c.path, target)) return element({ multiValued: c.path, conditions: [{ ...c, path: 'value' }] }, target);
  const col = (target === 'users' ? userColumns : groupColumns)[c.path];
  if (col) return compare(col, c);
  if (target === 'groups') throw invalidFilter(`Groups cannot be filtered on "${c.path}".`);
  // Anything else of a user (title, the enterprise extension...) is read from the stored resource.
  return compareJson(sql`du.resource #> ARRAY[${bind(resourcePath(c.path))}]::text[]`, c);
}

function isMultiValued(name: string, target: FilterTarget): boolean {
  return target === 'users' ? userMultiValued.has(name) || name === 'groups' : name === 'members';
}

/** `urn:...:User:manager.value` → [`urn:...:User`, `manager`, `value`]; `name.formatted` → [`name`, `formatted`]. */
export function resourcePath(path: string): string[] {
  if (!path.startsWith('urn:')) return path.split('.');
  const colon = path.lastIndexOf(':');
  return [path.slice(0, colon), ...path.slice(colon + 1).split('.')];
}

function element(c: ElementCondition, target: FilterTarget): SqlFragment {
  if (target === 'groups') {
    if (c.multiValued !== 'members') throw invalidFilter(`Groups cannot be filtered on "${c.multiValued}".`);
    const conds = join(c.conditions.map((s) => subColumn(groupMemberColumns, s)), ' AND ');
    return sql`EXISTS (SELECT 1 FROM directory_group_members fm JOIN directory_users fu ON fu.id = fm.directory_user_id WHERE fm.group_id = g.id AND ${conds})`;
  }
  if (c.multiValued === 'groups') {
    const conds = join(c.conditions.map((s) => subColumn(userGroupColumns, s)), ' AND ');
    return sql`EXISTS (SELECT 1 FROM directory_group_members fgm JOIN directory_groups fg ON fg.id = fgm.group_id WHERE fgm.directory_user_id = du.id AND ${conds})`;
  }
  return jsonElement(c);
}

function subColumn(columns: Record<string, Column>, s: FilterComparison): SqlFragment {
  const col = columns[s.path];
  if (!col) throw invalidFilter(`Unknown sub-attribute "${s.path}".`);
  return compare(col, s);
}

/**
 * An element of a multi-valued attribute kept in `resource`. Email values are stored lower-cased,
 * so a case-insensitive `value eq` is also asked as containment (`@>`), which the GIN index on
 * resource->'emails' answers; the EXISTS keeps RFC 7644's "one element meets every condition".
 */
function jsonElement(c: ElementCondition): SqlFragment {
  const lookup = c.conditions.find((s) => s.path === 'value' && s.op === 'eq' && !s.not && !s.caseExact && typeof s.value === 'string');
  const contained = c.multiValued === 'emails' && lookup
    ? sql`du.resource -> 'emails' @> ${bind(JSON.stringify([{ value: (lookup.value as string).toLowerCase() }]))}::jsonb`
    : null;
  if (contained && c.conditions.length === 1) return contained;
  const name = bind(c.multiValued);
  const conds = join(c.conditions.map((s) => compareJson(sql`fe.value #> ARRAY[${bind(s.path.split('.'))}]::text[]`, s)), ' AND ');
  const exists = sql`EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(du.resource -> ${name}) = 'array' THEN du.resource -> ${name} ELSE '[]'::jsonb END) fe WHERE ${conds})`;
  return contained ? sql`(${contained} AND ${exists})` : exists;
}

const orderOps = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

/**
 * Inverted for `not` and `ne` (ne is compiled as eq), NULL-safe where inverted: NOT of an
 * unknown must be true. A comparison that is not inverted stays bare, so the planner can use
 * the index behind it (an unknown there excludes the row, as false does: the filter is in DNF,
 * and NOT appears only right above a comparison).
 */
function outcome(test: SqlFragment, c: FilterComparison): SqlFragment {
  const inverted = c.op === 'ne' ? !c.not : c.not;
  return inverted ? sql`NOT COALESCE(${test}, false)` : test;
}

function compare(col: Column, c: FilterComparison): SqlFragment {
  if (c.op === 'pr') return outcome(col.kind === 'text' ? sql`(${col.sql} IS NOT NULL AND ${col.sql} <> '')` : sql`${col.sql} IS NOT NULL`, c);
  // RFC 7644 §3.4.2.2 leaves `eq null` undefined; it reads as "has no value".
  if (c.value === null || c.value === undefined) return outcome(sql`${col.sql} IS NULL`, c);
  switch (col.kind) {
    case 'uuid': return outcome(uuidCompare(col.sql, c), c);
    case 'boolean': return outcome(equality(col.sql, bind(booleanValue(c)), c), c);
    case 'timestamp': return outcome(ordered(col.sql, sql`${bind(String(c.value))}::timestamptz`, c), c);
    default: return outcome(textCompare(col.sql, c, col.lowered), c);
  }
}

function uuidCompare(col: SqlFragment, c: FilterComparison): SqlFragment {
  const value = String(c.value);
  if (c.op === 'eq' || c.op === 'ne') {
    // An id that is not a UUID names nothing (and must not reach a uuid cast).
    return isUuid(value) ? sql`${col} = ${bind(value)}::uuid` : raw('false');
  }
  return textCompare(sql`${col}::text`, { ...c, caseExact: false });
}

function booleanValue(c: FilterComparison): boolean {
  if (typeof c.value !== 'boolean') throw invalidFilter(`"${c.path}" is compared with a boolean.`);
  return c.value;
}

function equality(left: SqlFragment, right: SqlFragment, c: FilterComparison): SqlFragment {
  if (c.op !== 'eq' && c.op !== 'ne') throw invalidFilter(`"${c.op}" does not apply to the boolean "${c.path}".`);
  return sql`${left} = ${right}`;
}

function ordered(left: SqlFragment, right: SqlFragment, c: FilterComparison): SqlFragment {
  const op = c.op === 'ne' ? 'eq' : c.op;
  if (!(op in orderOps)) throw invalidFilter(`"${c.op}" does not apply to "${c.path}" (${c.type}).`);
  return sql`${left} ${raw(orderOps[op as keyof typeof orderOps])} ${right}`;
}

/** Strings: caseExact false compares lower() of both sides (the stored lowered column if there is one). */
function textCompare(col: SqlFragment, c: FilterComparison, lowered?: SqlFragment): SqlFragment {
  const fold = (f: SqlFragment) => (c.caseExact ? f : sql`lower(${f})`);
  const left = !c.caseExact && lowered ? lowered : fold(col);
  const value = String(c.value);
  const pattern = c.op === 'co' ? `%${escapeLike(value)}%` : c.op === 'sw' ? `${escapeLike(value)}%` : c.op === 'ew' ? `%${escapeLike(value)}` : null;
  if (pattern !== null) return sql`${left} LIKE ${fold(bind(pattern))}`;
  return ordered(left, fold(bind(value)), c);
}

/**
 * A comparison on a value inside jsonb (`resource`, or an array element): casts are guarded by
 * CASE on the JSON type, so a value of an unexpected type fails the comparison, not the query.
 */
function compareJson(path: SqlFragment, c: FilterComparison): SqlFragment {
  const target = sql`(${path})`;
  const text = sql`(${target} #>> '{}')`;
  if (c.op === 'pr') return outcome(sql`(${target} IS NOT NULL AND ${target} NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb))`, c);
  if (c.value === null || c.value === undefined) return outcome(sql`(${target} IS NULL OR ${target} = 'null'::jsonb)`, c);
  switch (c.type) {
    case 'boolean':
      return outcome(equality(target, sql`${bind(JSON.stringify(booleanValue(c)))}::jsonb`, c), c);
    case 'integer':
    case 'decimal':
      return outcome(sql`CASE WHEN jsonb_typeof(${target}) = 'number' THEN ${ordered(sql`${text}::numeric`, sql`${bind(Number(c.value))}::numeric`, c)} END`, c);
    case 'dateTime':
      return outcome(sql`CASE WHEN ${text} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN ${ordered(sql`${text}::timestamptz`, sql`${bind(String(c.value))}::timestamptz`, c)} END`, c);
    default:
      return outcome(sql`CASE WHEN jsonb_typeof(${target}) = 'string' THEN ${textCompare(text, c)} END`, c);
  }
}
