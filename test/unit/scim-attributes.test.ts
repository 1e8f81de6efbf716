import { parseProjection, project, returns } from '../../scim/scim-attributes.ts';
import { groupDefinition, userDefinition } from '../../scim/scim-schemas.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const user = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
  id: 'u1', userName: 'bob', active: true, displayName: 'Bob',
  name: { givenName: 'Bob', familyName: 'Smith' },
  emails: [{ value: 'bob@x', type: 'work', primary: true }],
  [ENT]: { employeeNumber: '7', department: 'R&D' },
  meta: { resourceType: 'User', location: 'l', version: 'W/"1"' },
};
const view = (attributes?: string, excluded?: string) => project(user, parseProjection(userDefinition, attributes, excluded));

describe('SCIM attributes / excludedAttributes (RFC 7644 §3.4.2.5)', () => {
  test('no parameters: the whole resource', () => expect(view()).toEqual(user));
  test('attributes: only those, plus id and schemas (returned always) and meta.resourceType', () => {
    expect(view('userName')).toEqual({ schemas: user.schemas, id: 'u1', meta: { resourceType: 'User' }, userName: 'bob' });
  });
  test('gap: attribute names are case-insensitive', () => expect(view('USERNAME,DisplayName')).toMatchObject({ userName: 'bob', displayName: 'Bob' }));
  test('sub-attributes: name.givenName and emails.value', () => {
    const out = view('name.givenName,emails.value');
    expect(out.name).toEqual({ givenName: 'Bob' });
    expect(out.emails).toEqual([{ value: 'bob@x' }]);
  });
  test('extension attribute by URN', () => expect(view(`${ENT}:employeeNumber`)[ENT]).toEqual({ employeeNumber: '7' }));
  test('the whole extension by its URN', () => expect(view(ENT)[ENT]).toEqual(user[ENT]));
  test('excludedAttributes drops attributes and sub-attributes', () => {
    const out = view(undefined, 'emails,name.familyName');
    expect(out.emails).toBeUndefined();
    expect(out.name).toEqual({ givenName: 'Bob' });
    expect(out.userName).toBe('bob');
  });
  test('excludedAttributes cannot drop id', () => expect(view(undefined, 'id,schemas').id).toBe('u1'));
  test('excluded extension attribute', () => expect(view(undefined, `${ENT}:department`)[ENT]).toEqual({ employeeNumber: '7' }));
  test('unknown names are ignored', () => expect(view('nope,userName')).toMatchObject({ userName: 'bob' }));
  test('members are loaded only when returned (Entra: excludedAttributes=members)', () => {
    expect(returns(parseProjection(groupDefinition, undefined, 'members'), 'members')).toBe(false);
    expect(returns(parseProjection(groupDefinition, 'displayName'), 'members')).toBe(false);
    expect(returns(parseProjection(groupDefinition, 'members.value'), 'members')).toBe(true);
    expect(returns(parseProjection(groupDefinition), 'members')).toBe(true);
  });
});
