import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from '../helpers/app.ts';
import { freePort } from '../helpers/cli.ts';
import { addMember, createOrg, type TestMember, type TestOrg } from '../helpers/factories.ts';
import { oktaMetadata, testCertificate } from '../helpers/idp-metadata.ts';
import { startMetadataServer, type MetadataServer } from '../helpers/metadata-server.ts';
import { refusalsOf } from '../helpers/snapshot.ts';

// Every refused connections request: the answer, and nothing changed (connection rows included).
let t: TestApp;
let idp: MetadataServer;
let a: TestOrg;
let b: TestOrg;
let okta: string;
let existing: { saml: string; oidc: string };

beforeAll(async () => {
  okta = testCertificate('Okta acme');
  idp = await startMetadataServer();
  t = await startApp();
  [a, b] = await Promise.all([createOrg(t), createOrg(t)]);
  const saml = await a.owner.api('POST', path(a), { type: 'saml', name: 'Okta', idpMetadataXml: oktaMetadata(okta) });
  const oidc = await a.owner.api('POST', path(a), { type: 'oidc', name: 'OIDC', issuer: 'https://idp.example.com', clientId: 'c', clientSecret: 's' });
  existing = { saml: saml.body.id, oidc: oidc.body.id };
});
afterAll(async () => {
  await t.close();
  await idp.close();
});

function path(org: TestOrg, rest = '') {
  return `/api/v1/orgs/${org.orgId}/connections${rest}`;
}

// The shared snapshot covers the org's connections rows too.
const expectRefused = refusalsOf(() => t);

const saml = (extra: object) => ({ type: 'saml', name: 'IdP', ...extra });
const manual = (extra: object = {}) => saml({ idpEntityId: 'https://idp.example.com', ssoUrl: 'https://idp.example.com/sso', certificates: [okta], ...extra });
const post = (body: object, who: TestMember = a.owner) => () => who.api('POST', path(a), body);

test('metadata with a DOCTYPE is refused (400)', async () => {
  const xml = oktaMetadata(okta).replace('<md:EntityDescriptor', '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><md:EntityDescriptor');
  const res = await expectRefused(a, post(saml({ idpMetadataXml: xml })), 400, 'request.invalid');
  expect(res.body.errors).toEqual([{ field: 'body.idpMetadataXml', message: expect.stringContaining('DOCTYPE') }]);
});

test('metadata that is not an IdP\'s (no IDPSSODescriptor) is refused (400)', async () => {
  const sp = '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>';
  await expectRefused(a, post(saml({ idpMetadataXml: sp })), 400, 'request.invalid');
});

test('two IdP sources at once are refused (400)', async () => {
  for (const body of [saml({ idpMetadataXml: oktaMetadata(okta), idpMetadataUrl: idp.url('/okta') }), manual({ idpMetadataXml: oktaMetadata(okta) })]) {
    const res = await expectRefused(a, post(body), 400, 'request.invalid');
    expect(res.body.errors).toEqual([{ field: 'body', message: expect.stringContaining('only one of') }]);
  }
});

test('no IdP source is refused (400)', async () => {
  const res = await expectRefused(a, post(saml({})), 400, 'request.invalid');
  expect(res.body.errors).toEqual([{ field: 'body', message: expect.stringContaining('the IdP is needed') }]);
});

test('manual fields without certificates are refused (400)', async () => {
  await expectRefused(a, post(saml({ idpEntityId: 'https://idp.example.com', ssoUrl: 'https://idp.example.com/sso' })), 400, 'request.invalid');
});

test('a certificate that is not one is refused (400)', async () => {
  const res = await expectRefused(a, post(manual({ certificates: [okta, '-----BEGIN CERTIFICATE-----\nMIIBnotacert\n-----END CERTIFICATE-----'] })), 400, 'request.invalid');
  expect(res.body.errors).toEqual([{ field: 'body.certificates.1', message: expect.any(String) }]);
});

test('an unknown default role is refused (400)', async () => {
  const res = await expectRefused(a, post(manual({ defaultRole: 'nope' })), 400, 'request.invalid');
  expect(res.body.errors[0].field).toBe('body.defaultRole');
});

test('a role rule naming an unknown role is refused (400)', async () => {
  const res = await expectRefused(a, post(manual({ roleRules: [{ group: 'g', role: 'nope' }] })), 400, 'request.invalid');
  expect(res.body.errors[0].field).toBe('body.roleRules.0.role');
});

test('a role rule naming an unknown team, or another org\'s team, is refused (400)', async () => {
  const teamOfB = await b.owner.api('POST', `/api/v1/orgs/${b.orgId}/teams`, { name: 'B team' });
  for (const teamId of [randomUUID(), teamOfB.body.id]) {
    const res = await expectRefused(a, post(manual({ roleRules: [{ group: 'g', teamId }] })), 400, 'request.invalid');
    expect(res.body.errors[0].field).toBe('body.roleRules.0.teamId');
  }
});

test('an admin cannot hand out the owner role through a connection (403)', async () => {
  const admin = await addMember(t, a.orgId, 'admin');
  await expectRefused(a, post(manual({ defaultRole: 'owner' }), admin), 403, 'role.above_caller');
  await expectRefused(a, post(manual({ roleRules: [{ group: 'g', role: 'owner' }] }), admin), 403, 'role.above_caller');
});

test('IdP-initiated login without a login URL, with an http one, or on an origin no registered app uses, is refused (400)', async () => {
  const res = await expectRefused(a, post(manual({ allowIdpInitiated: true })), 400, 'request.invalid');
  expect(res.body.errors[0].field).toBe('body.idpInitiatedLoginUrl');
  await expectRefused(a, post(manual({ allowIdpInitiated: true, idpInitiatedLoginUrl: 'http://app.example.com/login' })), 400, 'request.invalid');
  // Not the origin of any registered app: a connection cannot send browsers to a site it picks.
  const elsewhere = await expectRefused(a, post(manual({ allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://evil.example/landing' })), 400, 'request.invalid');
  expect(elsewhere.body.errors[0]).toMatchObject({ field: 'body.idpInitiatedLoginUrl', message: expect.stringContaining('not the origin of a registered application') });
  await expectRefused(a, () => a.owner.api('PATCH', path(a, `/${existing.saml}`), { allowIdpInitiated: true }), 400, 'request.invalid');
});

test('an unreachable metadata URL is refused (422)', async () => {
  const port = await freePort();
  const res = await expectRefused(a, post(saml({ idpMetadataUrl: `http://127.0.0.1:${port}/metadata` })), 422, 'connection.metadata_unreachable');
  expect(res.body.detail).toMatch(/could not be fetched/);
});

test('a metadata URL answering 404 is refused (422)', async () => {
  const res = await expectRefused(a, post(saml({ idpMetadataUrl: idp.url('/missing') })), 422, 'connection.metadata_unreachable');
  expect(res.body.detail).toMatch(/HTTP 404/);
});

test('a metadata URL serving something that is not IdP metadata is refused (400)', async () => {
  idp.documents.set('/html', { status: 200, body: '<html><body>Sign in</body></html>' });
  await expectRefused(a, post(saml({ idpMetadataUrl: idp.url('/html') })), 400, 'request.invalid');
});

test('a metadata URL that is not http(s) is refused (400)', async () => {
  await expectRefused(a, post(saml({ idpMetadataUrl: 'file:///etc/passwd' })), 400, 'request.invalid');
});

test('OIDC without a client secret, or scopes without openid, is refused (400)', async () => {
  await expectRefused(a, post({ type: 'oidc', name: 'x', issuer: 'https://idp.example.com', clientId: 'c' }), 400, 'request.invalid');
  await expectRefused(a, post({ type: 'oidc', name: 'x', issuer: 'https://idp.example.com', clientId: 'c', clientSecret: 's', scopes: ['email'] }), 400, 'request.invalid');
});

test('fields of the other connection type are refused on PATCH (400)', async () => {
  await expectRefused(a, () => a.owner.api('PATCH', path(a, `/${existing.saml}`), { clientSecret: 'x' }), 400, 'request.invalid');
  await expectRefused(a, () => a.owner.api('PATCH', path(a, `/${existing.oidc}`), { certificates: [okta] }), 400, 'request.invalid');
});

test('a viewer can neither create, list, read, change nor delete connections (403)', async () => {
  const viewer = await addMember(t, a.orgId, 'viewer');
  await expectRefused(a, post(manual(), viewer), 403, 'auth.forbidden');
  await expectRefused(a, () => viewer.api('PATCH', path(a, `/${existing.saml}`), { name: 'x' }), 403, 'auth.forbidden');
  await expectRefused(a, () => viewer.api('DELETE', path(a, `/${existing.saml}`)), 403, 'auth.forbidden');
  expect((await viewer.api('GET', path(a))).status).toBe(403);
  expect((await viewer.api('GET', path(a, `/${existing.saml}`))).status).toBe(403);
});

test('another org sees none of org A\'s connections (404)', async () => {
  for (const id of [existing.saml, existing.oidc]) {
    expect((await b.owner.api('GET', path(b, `/${id}`))).body.code).toBe('connection.not_found');
    await expectRefused(a, () => b.owner.api('PATCH', path(b, `/${id}`), { name: 'taken' }), 404, 'connection.not_found');
    await expectRefused(a, () => b.owner.api('DELETE', path(b, `/${id}`)), 404, 'connection.not_found');
    await expectRefused(a, () => b.owner.api('GET', path(a, `/${id}`)), 404, 'org.not_found');
  }
  expect((await b.owner.api('GET', path(b))).body.data).toEqual([]);
});
