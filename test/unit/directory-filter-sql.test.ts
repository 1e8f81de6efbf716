import { compileFilter, escapeLike, resourcePath } from '../../src/modules/directory-sync/directory-filter.sql.ts';
import type { DirectoryFilter, FilterComparison } from '../../src/modules/directory-sync/directory-records.ts';
import { highestRole } from '../../src/modules/directory-sync/membership-sync.ts';

// The SCIM filter → SQL compiler (RFC 7644 §3.4.2.2): what SQL each operator becomes, that values
// only ever travel as parameters, and which filters are refused. The same filters run against
// the database in test/integration/directory-sync.test.ts.
const cmp = (path: string, op: FilterComparison['op'], value?: FilterComparison['value'], extra: Partial<FilterComparison> = {}): FilterComparison =>
  ({ path, op, value, not: false, type: typeof value === 'boolean' ? 'boolean' : 'string', caseExact: false, ...extra });
const users = (...conds: FilterComparison[]) => compileFilter([conds], 'users');

describe('operators on columns', () => {
  test('eq on userName compares the stored lower-cased column to lower(value), bare, so its unique index serves it under row-level security', () => {
    expect(users(cmp('userName', 'eq', 'Bob'))).toEqual({ sql: '(du.user_name_lower = lower(?))', params: ['Bob'] });
  });
  test('eq on a caseExact attribute compares as is', () => {
    expect(users(cmp('externalId', 'eq', 'X1', { caseExact: true }))).toEqual({ sql: '(du.external_id = ?)', params: ['X1'] });
  });
  test('ne is the inverse of eq, NULL-safe, so a missing value matches', () => {
    expect(users(cmp('displayName', 'ne', 'A')).sql).toBe('(NOT COALESCE(lower(du.display_name) = lower(?), false))');
  });
  test.each([
    ['co', '%a\\%b\\_c\\\\%'],
    ['sw', 'a\\%b\\_c\\\\%'],
    ['ew', '%a\\%b\\_c\\\\'],
  ] as const)('%s is LIKE with the metacharacters of the value escaped', (op, pattern) => {
    expect(users(cmp('userName', op, 'a%b_c\\'))).toEqual({ sql: '(du.user_name_lower LIKE lower(?))', params: [pattern] });
  });
  test.each([['gt', '>'], ['ge', '>='], ['lt', '<'], ['le', '<=']] as const)('%s on a dateTime compares timestamps', (op, sqlOp) => {
    expect(users(cmp('meta.lastModified', op, '2024-01-01T00:00:00Z', { type: 'dateTime' }))).toEqual({
      sql: `(du.updated_at ${sqlOp} ?::timestamptz)`, params: ['2024-01-01T00:00:00Z'],
    });
  });
  test('pr on a string column: present and not empty', () => {
    expect(users(cmp('name.familyName', 'pr')).sql).toBe('((du.family_name IS NOT NULL AND du.family_name <> \'\'))');
  });
  test('not inverts any comparison', () => {
    expect(users(cmp('userName', 'sw', 'a', { not: true })).sql).toBe('(NOT COALESCE(du.user_name_lower LIKE lower(?), false))');
  });
  test('eq on a boolean binds the boolean; gt on it is an invalid filter', () => {
    expect(users(cmp('active', 'eq', true))).toEqual({ sql: '(du.active = ?)', params: [true] });
    expect(() => users(cmp('active', 'gt', true))).toThrow(expect.objectContaining({ code: 'scim.invalid_filter', status: 400 }));
  });
  test('an id that is not a UUID matches nothing instead of failing a cast', () => {
    expect(users(cmp('id', 'eq', 'nope'))).toEqual({ sql: '(false)', params: [] });
  });
  test('and inside a term, or between terms', () => {
    const out = compileFilter([[cmp('userName', 'eq', 'a'), cmp('active', 'eq', true)], [cmp('externalId', 'eq', 'x', { caseExact: true })]], 'users');
    expect(out.sql).toBe('((du.user_name_lower = lower(?) AND du.active = ?) OR (du.external_id = ?))');
    expect(out.params).toEqual(['a', true, 'x']);
  });
  test('no filter is TRUE', () => {
    expect(compileFilter(null, 'users')).toEqual({ sql: 'TRUE', params: [] });
  });
});

describe('multi-valued and resource attributes', () => {
  test('emails.value eq is a containment the GIN index answers, the value lower-cased', () => {
    expect(users(cmp('emails.value', 'eq', 'A@X.example'))).toEqual({ sql: '(du.resource -> \'emails\' @> ?::jsonb)', params: ['[{"value":"a@x.example"}]'] });
  });
  test('emails[type eq "work"].value eq: containment, and one element meeting both conditions', () => {
    const filter: DirectoryFilter = [[{ multiValued: 'emails', conditions: [cmp('type', 'eq', 'work'), cmp('value', 'eq', 'a@x.example')] }]];
    const out = compileFilter(filter, 'users');
    expect(out.sql).toContain('@> ?::jsonb AND EXISTS (SELECT 1 FROM jsonb_array_elements(');
    expect(out.params).toEqual(['[{"value":"a@x.example"}]', 'emails', 'emails', ['type'], ['type'], 'work', ['value'], ['value'], 'a@x.example']);
  });
  test('emails co: an EXISTS over the elements', () => {
    const out = users(cmp('emails.value', 'co', '@x'));
    expect(out.sql).toMatch(/^\(EXISTS \(SELECT 1 FROM jsonb_array_elements/);
    expect(out.params).toContain('%@x%');
  });
  test('groups.value: an EXISTS over the group membership rows', () => {
    expect(users(cmp('groups.value', 'eq', '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')).sql)
      .toBe('(EXISTS (SELECT 1 FROM directory_group_members fgm JOIN directory_groups fg ON fg.id = fgm.group_id WHERE fgm.directory_user_id = du.id AND fg.id = ?::uuid))');
  });
  test('members.value of a group: an EXISTS on the membership key', () => {
    const out = compileFilter([[{ multiValued: 'members', conditions: [cmp('value', 'eq', '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')] }]], 'groups');
    expect(out.sql).toContain('WHERE fm.group_id = g.id AND fm.directory_user_id = ?::uuid)');
  });
  test('an extension attribute is a path into the resource, the path itself a parameter', () => {
    const path = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value';
    expect(resourcePath(path)).toEqual(['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', 'manager', 'value']);
    const out = users(cmp(path, 'eq', 'M1', { caseExact: true }));
    expect(out.sql).not.toContain('urn:');
    expect(out.params).toEqual([resourcePath(path), resourcePath(path), 'M1']);
  });
  test('an integer in the resource compares as a number, guarded by its JSON type', () => {
    const out = users(cmp('x.count', 'gt', 3, { type: 'integer' }));
    expect(out.sql).toContain('CASE WHEN jsonb_typeof((du.resource #> ARRAY[?]::text[])) = \'number\'');
    expect(out.params).toEqual([['x', 'count'], ['x', 'count'], 3]);
  });
  test('groups refuse attributes they do not have', () => {
    expect(() => compileFilter([[cmp('title', 'eq', 'x')]], 'groups')).toThrow(expect.objectContaining({ code: 'scim.invalid_filter' }));
  });
  test('a value is never SQL text, whatever it holds', () => {
    const out = users(cmp('userName', 'eq', '\'); DROP TABLE users; --'), cmp('title', 'co', '\' OR 1=1 --'));
    expect(out.sql).not.toContain('DROP');
    expect(out.sql).not.toContain('1=1');
  });
  test('escapeLike', () => {
    expect(escapeLike('50%_\\')).toBe('50\\%\\_\\\\');
  });
});

describe('highest role', () => {
  test('built-ins rank admin > member > viewer; owner never ranks; an unknown role is skipped', () => {
    expect(highestRole(['viewer', 'admin', 'member'], new Map())).toBe('admin');
    expect(highestRole(['owner', 'viewer'], new Map())).toBe('viewer');
    expect(highestRole(['gone', 'member'], new Map())).toBe('member');
  });
  test('a custom role ranks by its number of permissions; a built-in wins a tie', () => {
    expect(highestRole(['member', 'auditor'], new Map([['auditor', 7]]))).toBe('auditor');
    expect(highestRole(['member', 'auditor'], new Map([['auditor', 1]]))).toBe('member');
    expect(highestRole(['viewer', 'reader'], new Map([['reader', 4]]))).toBe('viewer');
  });
});
