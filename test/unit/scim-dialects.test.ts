import { managerValue, normaliseOperation, normaliseResource } from '../../scim/scim-dialects.ts';
import { groupInput } from '../../scim/scim-group.ts';
import { groupDefinition, userDefinition } from '../../scim/scim-schemas.ts';
import { signInEmail, userInput } from '../../scim/scim-user.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const A = '0b7c1d2e-0000-4000-8000-00000000000a';

describe('Entra ID dialect', () => {
  test('capitalised ops are lower-cased (Replace, Add, Remove)', () => {
    expect(['Replace', 'Add', 'Remove'].map((op) => normaliseOperation(userDefinition, { op, path: 'title', value: 'x' }).op)).toEqual(['replace', 'add', 'remove']);
  });
  test('booleans as strings: "True"/"False" in a body, a path op, and sub-attributes', () => {
    expect(normaliseResource(userDefinition, { active: 'False', emails: [{ value: 'a', primary: 'True' }] })).toEqual({ active: false, emails: [{ value: 'a', primary: true }] });
    expect(normaliseOperation(userDefinition, { op: 'Replace', path: 'active', value: 'False' }).value).toBe(false);
    expect(normaliseOperation(userDefinition, { op: 'Replace', value: { active: 'True' } }).value).toEqual({ active: true });
  });
  test('a string that is not a boolean is left for the schema to refuse', () => expect(normaliseResource(userDefinition, { active: 'maybe' }).active).toBe('maybe'));
  test('manager shapes: bare id, {value}, empty', () => {
    expect(managerValue('m1')).toEqual({ value: 'm1' });
    expect(managerValue({ value: 'm1' })).toEqual({ value: 'm1' });
    expect(managerValue('')).toBeNull();
    expect(managerValue({ value: '' })).toBeNull();
    expect(managerValue(null)).toBeNull();
  });
  test('manager as a bare id in a POST body', () => {
    expect(userInput({ userName: 'a', [ENT]: { manager: 'm1', department: 'd' } }).resource[ENT]).toEqual({ manager: { value: 'm1' }, department: 'd' });
  });
  test('manager PATCH with path and an empty value becomes a remove', () => {
    expect(normaliseOperation(userDefinition, { op: 'Replace', path: `${ENT}:manager`, value: { value: '' } })).toEqual({ op: 'remove', path: `${ENT}:manager` });
    expect(normaliseOperation(userDefinition, { op: 'Add', path: `${ENT}:manager`, value: 'm1' }).value).toEqual({ value: 'm1' });
  });
});

describe('Okta dialect', () => {
  test('members in a Group POST body', () => expect(groupInput({ displayName: 'Eng', members: [{ value: A, display: 'a' }] }).memberIds).toEqual([A]));
  test('a Group PUT body without members means no members', () => expect(groupInput({ displayName: 'Eng' }).memberIds).toEqual([]));
  test('group attribute names in any case', () => expect(groupInput(normaliseResource(groupDefinition, { DisplayName: 'Eng' })).input.displayName).toBe('Eng'));
});

describe('User resource → DirectoryUserInput', () => {
  test('userName is required (400 invalidValue)', () => expect(() => userInput({ name: { givenName: 'x' } })).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' })));
  test('active left out stays unsaid (a new user is active, an existing one keeps their state)', () => {
    expect(userInput({ userName: 'a' }).active).toBeUndefined();
    expect(userInput({ userName: 'a', active: false }).active).toBe(false);
  });
  test('emails are lower-cased; the sign-in email is primary, else work, else first', () => {
    expect(userInput({ userName: 'a', emails: [{ value: 'W@X.COM', type: 'work' }, { value: 'P@X.com', type: 'home', primary: true }] }).email).toBe('p@x.com');
    expect(signInEmail([{ value: 'h@x', type: 'home' }, { value: 'w@x', type: 'work' }])).toBe('w@x');
    expect(signInEmail([{ value: 'h@x', type: 'home' }])).toBe('h@x');
    expect(signInEmail([])).toBeNull();
  });
  test('names and displayName are extracted; the enterprise extension is kept in resource', () => {
    const input = userInput({ userName: 'a', displayName: 'A B', name: { givenName: 'A', familyName: 'B' }, [`${ENT}:employeeNumber`]: '7' });
    expect(input).toMatchObject({ displayName: 'A B', givenName: 'A', familyName: 'B' });
    expect(input.resource[ENT]).toEqual({ employeeNumber: '7' });
  });
  test('password is never stored; id, meta and groups from the client are dropped', () => {
    const input = userInput({ userName: 'a', password: 'hunter2', id: 'x', meta: { version: '1' }, groups: [{ value: 'g' }] });
    expect(JSON.stringify(input)).not.toContain('hunter2');
    expect(input.resource).not.toHaveProperty('id');
    expect(input.resource).not.toHaveProperty('groups');
  });
  test('a body whose schemas name another resource type (400 invalidSyntax)', () => {
    expect(() => userInput({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], userName: 'a' })).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidSyntax' }));
  });
  test('a value of the wrong type (400 invalidValue)', () => {
    expect(() => userInput({ userName: 'a', emails: 'a@x' })).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' }));
  });
  test('a body that is not an object (400 invalidSyntax)', () => expect(() => userInput([1])).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidSyntax' })));
});
