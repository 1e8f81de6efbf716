import { groupChange, patchUserResource } from '../../scim/scim-patch.ts';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const A = '0b7c1d2e-0000-4000-8000-00000000000a';
const B = '0b7c1d2e-0000-4000-8000-00000000000b';
const body = (...Operations: unknown[]) => ({ schemas: [PATCH], Operations });
const none = { addMembers: [], removeMembers: [], removeAllMembers: false };
const scim = (status: number, scimType?: string) => expect.objectContaining({ status, ...(scimType ? { scimType } : {}) });

describe('group PATCH → GroupChange (members never loaded)', () => {
  test('add members with a value list', () => expect(groupChange(body({ op: 'add', path: 'members', value: [{ value: A }, { value: B }] }))).toEqual({ ...none, addMembers: [A, B] }));
  test('remove a member by value filter in the path', () => expect(groupChange(body({ op: 'remove', path: `members[value eq "${A}"]` }))).toEqual({ ...none, removeMembers: [A] }));
  test('remove members by value filter with or', () => {
    expect(groupChange(body({ op: 'remove', path: `members[value eq "${A}" or value eq "${B}"]` })).removeMembers).toEqual([A, B]);
  });
  test('Entra: Remove with path members and a value array', () => expect(groupChange(body({ op: 'Remove', path: 'members', value: [{ value: A }] }))).toEqual({ ...none, removeMembers: [A] }));
  test('remove members without a value: every member goes', () => expect(groupChange(body({ op: 'remove', path: 'members' }))).toEqual({ ...none, removeAllMembers: true }));
  test('Okta: replace of all members = remove all + add', () => {
    expect(groupChange(body({ op: 'replace', path: 'members', value: [{ value: A }] }))).toEqual({ ...none, removeAllMembers: true, addMembers: [A] });
  });
  test('replace displayName with a path', () => expect(groupChange(body({ op: 'replace', path: 'displayName', value: 'Eng' }))).toEqual({ ...none, displayName: 'Eng' }));
  test('replace displayName without a path (value object)', () => {
    expect(groupChange(body({ op: 'Replace', value: { displayName: 'Eng', externalId: 'e1' } }))).toEqual({ ...none, displayName: 'Eng', externalId: 'e1' });
  });
  test('Okta: a rename value restating the group id is accepted; another id is not', () => {
    expect(groupChange(body({ op: 'replace', value: { id: A, displayName: 'Eng' } }), A)).toEqual({ ...none, displayName: 'Eng' });
    expect(() => groupChange(body({ op: 'replace', value: { id: B, displayName: 'Eng' } }), A)).toThrow(scim(400, 'mutability'));
  });
  test('add then remove of one member in one PATCH cancels', () => {
    expect(groupChange(body({ op: 'add', path: 'members', value: [{ value: A }] }, { op: 'remove', path: `members[value eq "${A}"]` }))).toEqual({ ...none, removeMembers: [A] });
  });
  test('member ids are lower-cased and deduplicated', () => {
    expect(groupChange(body({ op: 'add', path: 'members', value: [{ value: A.toUpperCase() }, { value: A }] })).addMembers).toEqual([A]);
  });
  test('refused: a member value that is not a user id (400 invalidValue)', () => expect(() => groupChange(body({ op: 'add', path: 'members', value: [{ value: 'bob' }] }))).toThrow(scim(400, 'invalidValue')));
  test('refused: wrong schemas (400 invalidSyntax)', () => expect(() => groupChange({ schemas: ['x'], Operations: [] })).toThrow(scim(400, 'invalidSyntax')));
  test('refused: no operations (400 invalidValue)', () => expect(() => groupChange(body())).toThrow(scim(400, 'invalidValue')));
  test('refused: unknown op (400 invalidSyntax)', () => expect(() => groupChange(body({ op: 'move', path: 'members' }))).toThrow(scim(400, 'invalidSyntax')));
  test('refused: unknown path (400 invalidPath)', () => expect(() => groupChange(body({ op: 'replace', path: 'owner', value: 'x' }))).toThrow(scim(400, 'invalidPath')));
  test('refused: changing id (400 mutability)', () => expect(() => groupChange(body({ op: 'replace', path: 'id', value: A }))).toThrow(scim(400, 'mutability')));
  test('refused: removing displayName (400 invalidValue)', () => expect(() => groupChange(body({ op: 'remove', path: 'displayName' }))).toThrow(scim(400, 'invalidValue')));
  test('refused: a members filter on anything but value eq (400 invalidFilter)', () => {
    expect(() => groupChange(body({ op: 'remove', path: 'members[display eq "x"]' }))).toThrow(scim(400, 'invalidFilter'));
  });
});

describe('user PATCH applied by scimmy PatchOp to the current resource', () => {
  const current = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bob', active: true,
    name: { givenName: 'Bob' }, emails: [{ value: 'bob@x', type: 'work', primary: true }],
  };
  test('Okta deactivation: replace value {active: false}', async () => expect(await patchUserResource(current, body({ op: 'replace', value: { active: false } }))).toMatchObject({ active: false }));
  test('Entra: Replace active with "False"', async () => expect(await patchUserResource(current, body({ op: 'Replace', path: 'active', value: 'False' }))).toMatchObject({ active: false }));
  test('value filter in the path: emails[type eq "work"].value', async () => {
    const out = await patchUserResource(current, body({ op: 'replace', path: 'emails[type eq "work"].value', value: 'new@x' }));
    expect(out?.emails).toEqual([{ value: 'new@x', type: 'work', primary: true }]);
  });
  test('gap: Entra adds emails[type eq "home"].value when there is none: a new element', async () => {
    const out = await patchUserResource(current, body({ op: 'Add', path: 'emails[type eq "home"].value', value: 'h@x' }));
    expect(out?.emails).toEqual([current.emails[0], { type: 'home', value: 'h@x' }]);
  });
  test('sub-attribute path name.familyName', async () => expect((await patchUserResource(current, body({ op: 'add', path: 'name.familyName', value: 'S' })))?.name).toEqual({ givenName: 'Bob', familyName: 'S' }));
  test('Entra manager: path ...:manager with a bare id', async () => {
    expect((await patchUserResource(current, body({ op: 'Add', path: `${ENT}:manager`, value: 'm1' })))?.[ENT]).toEqual({ manager: { value: 'm1' } });
  });
  test('Entra manager: an empty value removes it', async () => {
    const withManager = { ...current, schemas: [...current.schemas, ENT], [ENT]: { manager: { value: 'm1' }, department: 'd' } };
    expect((await patchUserResource(withManager, body({ op: 'Replace', path: `${ENT}:manager`, value: '' })))?.[ENT]).toEqual({ department: 'd' });
  });
  test('no change: null (nothing written)', async () => expect(await patchUserResource(current, body({ op: 'replace', path: 'active', value: true }))).toBeNull());
  test('refused: unknown path (400 invalidPath)', async () => {
    await expect(patchUserResource(current, body({ op: 'replace', path: 'nope', value: 1 }))).rejects.toMatchObject({ status: 400, scimType: 'invalidPath' });
  });
  test('refused: removing userName (400 invalidValue)', async () => {
    await expect(patchUserResource(current, body({ op: 'remove', path: 'userName' }))).rejects.toMatchObject({ status: 400, scimType: 'invalidValue' });
  });
  test('refused: a string for a boolean that is not one (400 invalidValue)', async () => {
    await expect(patchUserResource(current, body({ op: 'replace', path: 'active', value: 'maybe' }))).rejects.toMatchObject({ status: 400, scimType: 'invalidValue' });
  });
});
