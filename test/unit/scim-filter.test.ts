import { translateFilter } from '../../scim/scim-filter.ts';
import { groupDefinition, userDefinition } from '../../scim/scim-schemas.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const users = (f: string) => translateFilter(userDefinition, f);
const cmp = (path: string, op: string, value?: unknown, extra: Record<string, unknown> = {}) => ({
  path, op, not: false, type: 'string', caseExact: false, ...(value === undefined ? {} : { value }), ...extra,
});
function rejects(f: string, def = userDefinition): void {
  expect(() => translateFilter(def, f)).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidFilter' }));
}

describe('SCIM filter → DirectoryFilter: each operator', () => {
  test.each(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])('operator %s on userName', (op) => {
    expect(users(`userName ${op} "bjensen"`)).toEqual([[cmp('userName', op, 'bjensen')]]);
  });
  test('operator pr', () => expect(users('title pr')).toEqual([[cmp('title', 'pr')]]));
  test('and: one term', () => expect(users('userName eq "a" and title eq "b"')).toEqual([[cmp('userName', 'eq', 'a'), cmp('title', 'eq', 'b')]]));
  test('or: two terms', () => expect(users('userName eq "a" or title eq "b"')).toEqual([[cmp('userName', 'eq', 'a')], [cmp('title', 'eq', 'b')]]));
  test('not: negates the comparison', () => expect(users('not (userName eq "a")')).toEqual([[{ ...cmp('userName', 'eq', 'a'), not: true }]]));
  test('grouping distributes and over or', () => {
    expect(users('userName eq "a" and (title eq "b" or title eq "c")')).toEqual([
      [cmp('userName', 'eq', 'a'), cmp('title', 'eq', 'b')],
      [cmp('userName', 'eq', 'a'), cmp('title', 'eq', 'c')],
    ]);
  });
  test('operators are case-insensitive (EQ, AND)', () => expect(users('userName EQ "a" AND title Pr')).toEqual([[cmp('userName', 'eq', 'a'), cmp('title', 'pr')]]));
});

describe('SCIM filter: gaps in scimmy filled', () => {
  test('gap: attribute names are case-insensitive at every level (EMAILS.VALUE)', () => {
    expect(users('USERNAME eq "a"')).toEqual([[cmp('userName', 'eq', 'a')]]);
    expect(users('EMAILS.VALUE eq "x@y"')).toEqual([[{ multiValued: 'emails', conditions: [cmp('value', 'eq', 'x@y')] }]]);
    expect(users('NAME.GIVENNAME eq "B"')).toEqual([[cmp('name.givenName', 'eq', 'B')]]);
  });
  test('gap: escaped quotes in strings', () => expect(users('displayName eq "a \\"b\\""')).toEqual([[cmp('displayName', 'eq', 'a "b"')]]));
  test('gap: parentheses, brackets and "and" inside strings are text', () => {
    expect(users('displayName eq "x) and (y [z]"')).toEqual([[cmp('displayName', 'eq', 'x) and (y [z]')]]);
  });
  test('gap: nested groups', () => {
    expect(users('((userName eq "a") and (title eq "b" or (title eq "c")))')).toHaveLength(2);
  });
  test('gap: not over or is De Morgan (and of negations)', () => {
    expect(users('not (userName eq "a" or title eq "b")')).toEqual([[{ ...cmp('userName', 'eq', 'a'), not: true }, { ...cmp('title', 'eq', 'b'), not: true }]]);
  });
  test('gap: not over and is De Morgan (or of negations)', () => {
    expect(users('not (userName eq "a" and title eq "b")')).toEqual([[{ ...cmp('userName', 'eq', 'a'), not: true }], [{ ...cmp('title', 'eq', 'b'), not: true }]]);
  });
  test('gap: double negation cancels', () => expect(users('not (not (userName eq "a"))')).toEqual([[cmp('userName', 'eq', 'a')]]));
  test('gap: a value filter and its sub-attribute comparison are one element condition', () => {
    expect(users('emails[type eq "work"].value eq "x@y"')).toEqual([[{ multiValued: 'emails', conditions: [cmp('type', 'eq', 'work'), cmp('value', 'eq', 'x@y')] }]]);
  });
  test('gap: members[value eq "id"] on groups', () => {
    expect(translateFilter(groupDefinition, 'members[value eq "0b7c"]')).toEqual([[{ multiValued: 'members', conditions: [cmp('value', 'eq', '0b7c')] }]]);
  });
  test('gap: or inside a value filter gives one element condition per branch', () => {
    expect(users('emails[type eq "work" or type eq "home"]')).toHaveLength(2);
  });
  test('gap: separate conditions on one multi-valued attribute stay separate (any element each)', () => {
    expect(users('emails.type eq "work" and emails.value co "@x"')[0]).toHaveLength(2);
  });
  test('extension attributes by URN, canonicalised', () => {
    expect(users(`${ENT.toLowerCase()}:EMPLOYEENUMBER eq "7"`)).toEqual([[cmp(`${ENT}:employeeNumber`, 'eq', '7')]]);
    expect(users(`${ENT}:manager.value eq "m"`)).toEqual([[cmp(`${ENT}:manager.value`, 'eq', 'm')]]);
  });
  test('core schema URN prefix is accepted', () => {
    expect(users('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"')).toEqual([[cmp('userName', 'eq', 'a')]]);
  });
  test('caseExact from the schema: id is exact, userName is not', () => {
    expect(users('id eq "A"')[0]![0]).toMatchObject({ caseExact: true });
    expect(users('userName eq "A"')[0]![0]).toMatchObject({ caseExact: false });
  });
  test('value typing: booleans, Entra string booleans, dateTime normalised', () => {
    expect(users('active eq true')[0]![0]).toMatchObject({ type: 'boolean', value: true });
    expect(users('active eq "False"')[0]![0]).toMatchObject({ type: 'boolean', value: false });
    expect(users('meta.lastModified gt "2011-05-13T04:42:34+02:00"')[0]![0]).toMatchObject({ type: 'dateTime', value: '2011-05-13T02:42:34.000Z' });
  });
  test('eq null is absence, ne null presence', () => {
    expect(users('title eq null')).toEqual([[{ ...cmp('title', 'pr'), not: true }]]);
    expect(users('title ne null')).toEqual([[cmp('title', 'pr')]]);
  });
  test('a complex multi-valued attribute compared directly means its value', () => {
    expect(users('emails co "@x"')).toEqual([[{ multiValued: 'emails', conditions: [cmp('value', 'co', '@x')] }]]);
  });
});

describe('SCIM filter: refusals (400 invalidFilter)', () => {
  test('unknown attribute', () => rejects('nope eq "x"'));
  test('unknown sub-attribute in a value filter', () => rejects('emails[nope eq "x"]'));
  test('comparison without a value', () => rejects('userName eq'));
  test('unknown operator', () => rejects('userName like "x"'));
  test('unbalanced parentheses', () => rejects('(userName eq "a"'));
  test('unterminated string', () => rejects('userName eq "a'));
  test('trailing garbage', () => rejects('userName eq "a" "b"'));
  test('gt on a boolean', () => rejects('active gt true'));
  test('co on a dateTime', () => rejects('meta.created co "2020"'));
  test('not a dateTime', () => rejects('meta.created gt "yesterday"'));
  test('a string for a boolean', () => rejects('active eq "maybe"'));
  test('password cannot be probed', () => rejects('password eq "secret"'));
  test('not over a value filter', () => rejects('not (emails[type eq "work"])'));
  test('nested value filters', () => rejects('emails[emails[type eq "x"]]'));
  test('too complex: DNF over the cap', () => {
    const clause = (i: number) => `(title eq "a${i}" or title eq "b${i}")`;
    rejects(Array.from({ length: 8 }, (_, i) => clause(i)).join(' and '));
  });
  test('too deeply nested', () => rejects(`${'('.repeat(40)}userName eq "a"${')'.repeat(40)}`));
  test('too long', () => rejects(`userName eq "${'a'.repeat(5000)}"`));
});
