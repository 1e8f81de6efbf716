import { randomUUID } from 'node:crypto';
import { startApp, type TestApp, client, type Client } from '../helpers/app.ts';
import { createOrg } from '../helpers/factories.ts';

// The SCIM 2.0 protocol surface over HTTP (RFC 7644): auth, content type, headers, discovery,
// errors. The recorded Okta/Entra sessions are replayed in scim-okta / scim-entra tests.

const SCIM = 'application/scim+json';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

let t: TestApp;
let base: string;
let token: string;
let scim: Client;

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  scim(method, path, body === undefined || typeof body === 'string' ? body : JSON.stringify(body), { ...(body !== undefined ? { 'content-type': SCIM } : {}), ...headers });
const newUser = (userName = `u-${randomUUID().slice(0, 8)}@example.test`) => ({ schemas: [USER], userName, emails: [{ value: userName, type: 'work', primary: true }] });

beforeAll(async () => {
  t = await startApp();
  const org = await createOrg(t);
  const created = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'Protocol IdP', defaultRole: 'member' });
  expect(created.status).toBe(201);
  token = created.body.token;
  base = new URL(created.body.scimBaseUrl).pathname;
  scim = client(`${t.url}${base}`, token);
});
afterAll(async () => t?.close());

function expectScimError(reply: { status: number; body: any; headers: Headers }, status: number, scimType?: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(reply.body).toMatchObject({ schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}) });
}

describe('SCIM auth', () => {
  test('no token: 401 SCIM error with WWW-Authenticate: Bearer', async () => {
    const reply = await client(`${t.url}${base}`)('GET', '/Users');
    expectScimError(reply, 401);
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
  test('wrong token: 401', async () => expectScimError(await client(`${t.url}${base}`, 'gh_scim_nope')('GET', '/Users'), 401));
  test('unknown directory with a real token: 401', async () => {
    expectScimError(await client(`${t.url}/scim/v2/${randomUUID()}`, token)('GET', '/Users'), 401);
  });
  test('malformed directory id: 401', async () => expectScimError(await client(`${t.url}/scim/v2/not-a-uuid`, token)('GET', '/Users'), 401));
  test("another directory's token: 401", async () => {
    const org = await createOrg(t);
    const other = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'Other IdP', defaultRole: 'member' });
    expectScimError(await client(`${t.url}${base}`, other.body.token)('GET', '/Users'), 401);
  });
  test('unknown endpoint without a token: 401, not a hint that it does not exist', async () => expectScimError(await client(`${t.url}${base}`)('GET', '/Nope'), 401));
});

describe('SCIM Users protocol', () => {
  test('create: 201, Location, ETag, meta, application/scim+json; password not returned', async () => {
    const reply = await call('POST', '/Users', { ...newUser(), password: 'hunter2' });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    expect(reply.headers.get('location')).toBe(reply.body.meta.location);
    expect(reply.body.meta.location).toMatch(new RegExp(`${base}/Users/${reply.body.id}$`));
    expect(reply.headers.get('etag')).toBe(reply.body.meta.version);
    expect(reply.body.meta).toMatchObject({ resourceType: 'User', version: expect.stringMatching(/^W\/"\d+"$/) });
    expect(reply.text).not.toContain('hunter2');
  });
  test('plain application/json bodies are accepted too', async () => {
    const reply = await scim('POST', '/Users', newUser());
    expect(reply.body).toMatchObject({ userName: expect.any(String) });
    expect(reply.status).toBe(201);
  });
  test('duplicate userName in another case: 409 uniqueness', async () => {
    const user = newUser();
    expect((await call('POST', '/Users', user)).status).toBe(201);
    expectScimError(await call('POST', '/Users', { ...user, userName: user.userName.toUpperCase() }), 409, 'uniqueness');
  });
  test('missing userName: 400 invalidValue', async () => expectScimError(await call('POST', '/Users', { schemas: [USER] }), 400, 'invalidValue'));
  test('malformed JSON: 400 invalidSyntax', async () => expectScimError(await call('POST', '/Users', '{"userName":'), 400, 'invalidSyntax'));
  test('a body that is not JSON by content type: 400 invalidSyntax', async () => {
    expectScimError(await scim('POST', '/Users', 'userName=a', { 'content-type': 'text/plain' }), 400, 'invalidSyntax');
  });
  test('a body over the limit: 413', async () => {
    expectScimError(await call('POST', '/Users', { ...newUser(), title: 'x'.repeat(200_000) }), 413);
  });
  test('unknown id: 404; malformed id: 404', async () => {
    expectScimError(await call('GET', `/Users/${randomUUID()}`), 404);
    expectScimError(await call('GET', '/Users/not-a-uuid'), 404);
  });
  test('filter userName eq is case-insensitive; attributes projection; pagination numbers', async () => {
    const user = newUser();
    await call('POST', '/Users', user);
    const reply = await call('GET', `/Users?filter=${encodeURIComponent(`USERNAME eq "${user.userName.toUpperCase()}"`)}&attributes=userName`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    expect(Object.keys(reply.body.Resources[0]).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
  });
  test('a NUL in a body is 400 invalidValue, in a filter 400 invalidFilter; nothing is stored', async () => {
    await expectScimError(await call('POST', '/Users', { schemas: [USER], userName: 'nul\u0000@example.com' }), 400, 'invalidValue');
    await expectScimError(await call('GET', `/Users?filter=${encodeURIComponent('userName eq "a\u0000"')}`), 400, 'invalidFilter');
    const found = await call('GET', `/Users?filter=${encodeURIComponent('userName sw "nul"')}`);
    expect(found.body.totalResults).toBe(0);
  });
  test('a filter given twice is 400 invalidFilter, not a list of everyone', async () => {
    await expectScimError(await call('GET', `/Users?filter=${encodeURIComponent('userName eq "x"')}&filter=${encodeURIComponent('userName eq "y"')}`), 400, 'invalidFilter');
    await expectScimError(await call('GET', '/Users?attributes=userName&attributes=emails'), 400, 'invalidSyntax');
  });
  test('invalid filter: 400 invalidFilter', async () => expectScimError(await call('GET', `/Users?filter=${encodeURIComponent('nope eq "x"')}`), 400, 'invalidFilter'));
  test('count=0 gives totalResults only; startIndex < 1 is 1', async () => {
    const reply = await call('GET', '/Users?count=0&startIndex=-5');
    expect(reply.body).toMatchObject({ itemsPerPage: 0, startIndex: 1, Resources: [] });
    expect(reply.body.totalResults).toBeGreaterThan(0);
  });
  test('PATCH with a value filter in the path; If-Match stale → 412', async () => {
    const created = (await call('POST', '/Users', newUser())).body;
    const patched = await call('PATCH', `/Users/${created.id}`, {
      schemas: [PATCH], Operations: [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'new-' + created.userName }],
    }, { 'if-match': created.meta.version });
    expect(patched.status).toBe(200);
    expect(patched.body.emails[0].value).toBe('new-' + created.userName);
    expect(patched.headers.get('etag')).not.toBe(created.meta.version);
    expectScimError(await call('PUT', `/Users/${created.id}`, newUser(created.userName), { 'if-match': created.meta.version }), 412);
  });
  test('DELETE: 204, then 404', async () => {
    const created = (await call('POST', '/Users', newUser())).body;
    expect((await call('DELETE', `/Users/${created.id}`)).status).toBe(204);
    expectScimError(await call('GET', `/Users/${created.id}`), 404);
  });
});

describe('SCIM Groups protocol', () => {
  test('PATCH members by value filter: 204; excludedAttributes=members skips members', async () => {
    const user = (await call('POST', '/Users', newUser())).body;
    const group = await call('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `G ${randomUUID()}`, members: [{ value: user.id }] });
    expect(group.status).toBe(201);
    expect(group.headers.get('location')).toMatch(new RegExp(`/Groups/${group.body.id}$`));
    const read = await call('GET', `/Groups/${group.body.id}?excludedAttributes=members`);
    expect(read.body.members).toBeUndefined();
    expect((await call('GET', `/Groups/${group.body.id}`)).body.members).toEqual([expect.objectContaining({ value: user.id })]);
    const patch = await call('PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${user.id}"]` }] });
    expect(patch.status).toBe(204);
    expect((await call('GET', `/Groups/${group.body.id}`)).body.members ?? []).toEqual([]);
  });
  test('a member that is not a user id: 400 invalidValue', async () => {
    expectScimError(await call('POST', '/Groups', { displayName: 'Bad', members: [{ value: 'bob' }] }), 400, 'invalidValue');
  });
});

describe('SCIM discovery', () => {
  test('ServiceProviderConfig advertises patch, filter, etag; no bulk, sort or changePassword', async () => {
    const reply = await call('GET', '/ServiceProviderConfig');
    expect(reply.body).toMatchObject({
      patch: { supported: true }, bulk: { supported: false }, filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false }, sort: { supported: false }, etag: { supported: true },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
  });
  test('ResourceTypes and Schemas, with locations under the directory', async () => {
    const types = await call('GET', '/ResourceTypes');
    expect(types.body.Resources.map((r: any) => r.id)).toEqual(['User', 'Group']);
    expect((await call('GET', '/ResourceTypes/User')).body.schemaExtensions).toEqual([{ schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false }]);
    const schemas = await call('GET', '/Schemas');
    expect(schemas.body.Resources.map((r: any) => r.id)).toContain('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User');
    const user = await call('GET', `/Schemas/${USER}`);
    expect(user.body.meta.location).toContain(`${base}/Schemas/${USER}`);
    expectScimError(await call('GET', '/Schemas/urn:nope'), 404);
  });
  test('unsupported: Bulk is 501; wrong method on a known endpoint is 405; unknown endpoint 404', async () => {
    expectScimError(await call('POST', '/Bulk', {}), 501);
    expectScimError(await call('DELETE', '/ServiceProviderConfig'), 405);
    expectScimError(await call('GET', '/Nope'), 404);
  });
});
