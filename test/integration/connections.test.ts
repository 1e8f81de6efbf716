import { X509Certificate } from 'node:crypto';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { certificateBody, entraMetadata, oktaEntityId, oktaMetadata, oktaSsoUrl, testCertificate } from '../helpers/idp-metadata.ts';
import { startMetadataServer, type MetadataServer } from '../helpers/metadata-server.ts';
import { auditEventsOf } from '../helpers/snapshot.ts';
import { samlConnection } from '../helpers/sso.ts';
import { createPlatformClient } from '../../src/oidc/clients.service.ts';

// The connections API through the real app and PostgreSQL; IdP metadata is served from loopback.
let t: TestApp;
let idp: MetadataServer;
let a: TestOrg;
let okta: string;
let rotated: string;
let entra: { signing: string; next: string; metadataSigning: string; wsfed: string };
let tenDays: string;

// Certificates are made up front: making one blocks the event loop for a while, and a test
// client's kept-alive connection can then race the server's idle timeout.
beforeAll(async () => {
  okta = testCertificate('Okta acme');
  rotated = testCertificate('Okta rotated');
  tenDays = testCertificate('Okta ending soon', 10);
  entra = { signing: testCertificate('Entra 1'), next: testCertificate('Entra 2'), metadataSigning: testCertificate('mdsig'), wsfed: testCertificate('wsfed') };
  idp = await startMetadataServer();
  t = await startApp();
  a = await createOrg(t);
  // The product whose login-initiation URLs IdP-initiated logins may land on.
  await createPlatformClient(t.db, t.app.services.secrets, { name: 'App', redirectUris: ['https://app.example.com/callback'] });
});
afterAll(async () => {
  await t.close();
  await idp.close();
});

const path = (org: TestOrg, rest = '') => `/api/v1/orgs/${org.orgId}/connections${rest}`;
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const tenant = 'b4d7e6c1-3a2f-4e5d-8c9b-0a1f2e3d4c5b';

async function create(org: TestOrg, body: object) {
  const res = await org.owner.api('POST', path(org), body);
  expect(res.status).toBe(201);
  return res;
}

const row = (orgId: string, id: string) => t.db.inOrg(orgId, async (em) =>
  (await em.execute<{ sp_private_key_sealed: string | null; client_secret_sealed: string | null; saml: any; oidc: any }[]>('SELECT * FROM connections WHERE id = ?', [id]))[0]!);

test('a SAML connection from Okta metadata XML: IdP settings, what to paste into the IdP, the SP key sealed', async () => {
  const res = await create(a, { type: 'saml', name: 'Okta', preset: 'okta', idpMetadataXml: oktaMetadata(okta) });
  const id = res.body.id;
  const base = t.config.publicUrl;
  expect(res.body).toMatchObject({
    type: 'saml', name: 'Okta', active: true, preset: 'okta', defaultRole: 'member', roleRules: [], attributeMapping: {},
    saml: { idpEntityId: oktaEntityId, ssoUrl: oktaSsoUrl, ssoBinding: 'redirect', metadataUrl: null, allowIdpInitiated: false, idpInitiatedLoginUrl: null, requireEncryptedAssertions: false },
    sp: { entityId: `${base}/sso/saml/${id}/metadata`, acsUrl: `${base}/sso/saml/${id}/acs`, metadataUrl: `${base}/sso/saml/${id}/metadata`, certificate: expect.stringContaining('BEGIN CERTIFICATE') },
    oidc: null, redirectUri: null,
  });
  expect(res.body.saml.certificates).toEqual([{ pem: expect.any(String), fingerprintSha256: fingerprint(okta), subject: 'CN=Okta acme', notAfter: expect.any(String), expiresSoon: false, expired: false }]);
  const stored = await row(a.orgId, id);
  expect(stored.sp_private_key_sealed!.startsWith('v1.')).toBe(true);
  expect(stored.sp_private_key_sealed).not.toContain('PRIVATE KEY');
  const privateKey = t.app.services.secrets.open(stored.sp_private_key_sealed!, id);
  expect(privateKey).toContain('BEGIN PRIVATE KEY');
  const keyBody = privateKey.split('\n')[1]!;
  for (const text of [res.text, (await a.owner.api('GET', path(a, `/${id}`))).text, (await a.owner.api('GET', path(a, '?limit=200'))).text]) {
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(keyBody);
  }
  expect((await a.owner.api('GET', path(a, `/${id}`))).body).toEqual(res.body);
  const [event] = await auditEventsOf(t, a.orgId, 'connection.created').then((e) => e.filter((x) => x.target_id === id));
  expect(event!.after).toMatchObject({ id, name: 'Okta' });
  expect(JSON.stringify(event)).not.toContain(keyBody);
});

test('a SAML connection from Entra metadata at a URL: fetched, both rollover certificates, the URL kept for refreshes', async () => {
  const certs = entra;
  idp.documents.set('/entra/federationmetadata.xml', { status: 200, body: entraMetadata(tenant, certs) });
  const url = idp.url('/entra/federationmetadata.xml');
  const res = await create(a, { type: 'saml', name: 'Entra', preset: 'entra', idpMetadataUrl: url, ssoBinding: 'post' });
  expect(res.body.saml).toMatchObject({ idpEntityId: `https://sts.windows.net/${tenant}/`, ssoUrl: `https://login.microsoftonline.com/${tenant}/saml2`, ssoBinding: 'post', metadataUrl: url, metadataRefreshedAt: expect.any(String) });
  expect(res.body.saml.certificates.map((c: { fingerprintSha256: string }) => c.fingerprintSha256)).toEqual([fingerprint(certs.signing), fingerprint(certs.next)]);
});

test('a SAML connection from manual fields (entity id, SSO URL, PEM certificates)', async () => {
  const res = await create(a, {
    type: 'saml', name: 'Google', preset: 'google', idpEntityId: 'https://accounts.google.com/o/saml2?idpid=C01abc', ssoUrl: 'https://accounts.google.com/o/saml2/idp?idpid=C01abc',
    ssoBinding: 'post', certificates: [okta, certificateBody(okta)], allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://app.example.com/login', requireEncryptedAssertions: true,
  });
  expect(res.body.saml).toMatchObject({ idpEntityId: 'https://accounts.google.com/o/saml2?idpid=C01abc', ssoBinding: 'post', metadataUrl: null, allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://app.example.com/login', requireEncryptedAssertions: true });
  expect(res.body.saml.certificates).toHaveLength(1);
});

test('an OIDC connection: redirect URI shown, client secret sealed and never returned or audited', async () => {
  const clientSecret = 'very-secret-client-secret-0123456789';
  const res = await create(a, { type: 'oidc', name: 'Entra OIDC', preset: 'entra', issuer: `https://login.microsoftonline.com/${tenant}/v2.0`, clientId: 'app-client-id', clientSecret });
  const id = res.body.id;
  expect(res.body).toMatchObject({ type: 'oidc', saml: null, sp: null, redirectUri: `${t.config.publicUrl}/sso/oidc/${id}/callback`,
    oidc: { issuer: `https://login.microsoftonline.com/${tenant}/v2.0`, discoveryUrl: null, clientId: 'app-client-id', scopes: ['openid', 'email', 'profile'] } });
  const stored = await row(a.orgId, id);
  expect(stored.client_secret_sealed).not.toContain(clientSecret);
  expect(t.app.services.secrets.open(stored.client_secret_sealed!, id)).toBe(clientSecret);
  for (const text of [res.text, (await a.owner.api('GET', path(a, `/${id}`))).text, (await a.owner.api('GET', path(a, '?limit=200'))).text]) {
    expect(text).not.toContain(clientSecret);
    expect(text).not.toContain('clientSecret');
  }
  const audit = await t.db.inOrg(a.orgId, (em) => em.execute<{ t: string }[]>('SELECT (before::text || after::text) AS t FROM audit_events WHERE target_id = ?', [id]));
  expect(audit.map((e) => e.t).join()).not.toContain(clientSecret);
});

test('PATCH changes settings, rules and certificates and audits before and after', async () => {
  const team = await a.owner.api('POST', `/api/v1/orgs/${a.orgId}/teams`, { name: 'Engineering' });
  const created = await create(a, { type: 'saml', name: 'Okta 2', idpMetadataXml: oktaMetadata(okta) });
  const res = await a.owner.api('PATCH', path(a, `/${created.body.id}`), {
    name: 'Okta (prod)', active: false, defaultRole: 'viewer', roleRules: [{ group: 'admins', role: 'admin' }, { group: 'eng', teamId: team.body.id }],
    attributeMapping: { groups: 'memberOf' }, allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://app.example.com/sso', certificates: [okta, rotated],
  });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ name: 'Okta (prod)', active: false, defaultRole: 'viewer', attributeMapping: { groups: 'memberOf' }, roleRules: [{ group: 'admins', role: 'admin' }, { group: 'eng', teamId: team.body.id }] });
  expect(res.body.saml).toMatchObject({ idpEntityId: oktaEntityId, allowIdpInitiated: true, idpInitiatedLoginUrl: 'https://app.example.com/sso' });
  expect(res.body.saml.certificates.map((c: { fingerprintSha256: string }) => c.fingerprintSha256)).toEqual([fingerprint(okta), fingerprint(rotated)]);
  expect(res.body.sp).toEqual(created.body.sp);
  const [event] = (await auditEventsOf(t, a.orgId, 'connection.updated')).filter((e) => e.target_id === created.body.id);
  expect(event!.before).toMatchObject({ name: 'Okta 2', active: true });
  expect(event!.after).toMatchObject({ name: 'Okta (prod)', active: false });
});

test('PATCH rotates an OIDC client secret: sealed anew, audited as rotated, never shown', async () => {
  const created = await create(a, { type: 'oidc', name: 'OIDC rot', issuer: 'https://idp.example.com', clientId: 'c1', clientSecret: 'first-secret-value' });
  const res = await a.owner.api('PATCH', path(a, `/${created.body.id}`), { clientSecret: 'second-secret-value', scopes: ['openid', 'email'] });
  expect(res.status).toBe(200);
  expect(res.body.oidc.scopes).toEqual(['openid', 'email']);
  expect(res.text).not.toContain('second-secret-value');
  const stored = await row(a.orgId, created.body.id);
  expect(t.app.services.secrets.open(stored.client_secret_sealed!, created.body.id)).toBe('second-secret-value');
  const [event] = (await auditEventsOf(t, a.orgId, 'connection.updated')).filter((e) => e.target_id === created.body.id);
  expect(event!.after.rotated).toEqual(['clientSecret']);
  expect(JSON.stringify(event)).not.toContain('second-secret-value');
});

test('DELETE removes the connection and audits it', async () => {
  const created = await create(a, { type: 'oidc', name: 'Gone', issuer: 'https://idp.example.com', clientId: 'c', clientSecret: 's' });
  expect((await a.owner.api('DELETE', path(a, `/${created.body.id}`))).status).toBe(204);
  expect((await a.owner.api('GET', path(a, `/${created.body.id}`))).status).toBe(404);
  const events = await t.db.inOrg(a.orgId, (em) => em.execute<{ type: string }[]>('SELECT type FROM audit_events WHERE target_id = ? ORDER BY seq', [created.body.id]));
  expect(events.map((e) => e.type)).toEqual(['connection.created', 'connection.deleted']);
});

const eventsOf = (orgId: string, id: string, type: string) => auditEventsOf(t, orgId, type).then((events) => events.filter((e) => e.target_id === id));

test('the refresher picks up an IdP certificate rollover from the metadata URL and audits it', async () => {
  idp.documents.set('/okta/rollover', { status: 200, body: oktaMetadata(okta) });
  const created = await create(a, { type: 'saml', name: 'Okta by URL', idpMetadataUrl: idp.url('/okta/rollover') });
  expect(await t.app.metadataRefresher.refreshOnce()).toMatchObject({ checked: expect.any(Number) });
  expect(await eventsOf(a.orgId, created.body.id, 'connection.metadata_refreshed')).toEqual([]);

  idp.documents.set('/okta/rollover', { status: 200, body: oktaMetadata(rotated) });
  await t.app.metadataRefresher.refreshOnce();
  const after = await a.owner.api('GET', path(a, `/${created.body.id}`));
  expect(after.body.saml.certificates.map((c: { fingerprintSha256: string }) => c.fingerprintSha256)).toEqual([fingerprint(rotated)]);
  expect(after.body.saml.metadataUrl).toBe(idp.url('/okta/rollover'));
  const events = await eventsOf(a.orgId, created.body.id, 'connection.metadata_refreshed');
  expect(events).toHaveLength(1);
  expect(events[0]!.before.saml.certificates[0].fingerprintSha256).toBe(fingerprint(okta));
  expect(events[0]!.after.saml.certificates[0].fingerprintSha256).toBe(fingerprint(rotated));
  await t.app.metadataRefresher.refreshOnce();
  expect(await eventsOf(a.orgId, created.body.id, 'connection.metadata_refreshed')).toHaveLength(1);
});

test('a failed refresh keeps the old metadata and does not throw', async () => {
  idp.documents.set('/okta/flaky', { status: 200, body: oktaMetadata(okta) });
  const created = await create(a, { type: 'saml', name: 'Okta flaky', idpMetadataUrl: idp.url('/okta/flaky') });
  for (const broken of [{ status: 500, body: 'down' }, { status: 200, body: '<!DOCTYPE x><x/>' }]) {
    idp.documents.set('/okta/flaky', broken);
    const summary = await t.app.metadataRefresher.refreshOnce();
    expect(summary.failed).toBeGreaterThanOrEqual(1);
    const now = await a.owner.api('GET', path(a, `/${created.body.id}`));
    expect(now.body.saml).toEqual(created.body.saml);
  }
});

test('an IdP certificate ending in 10 days: expiresSoon in the API and one certificate_expiring event, not one per run', async () => {
  idp.documents.set('/okta/expiring', { status: 200, body: oktaMetadata(tenDays) });
  const created = await create(a, { type: 'saml', name: 'Okta expiring', idpMetadataUrl: idp.url('/okta/expiring') });
  expect(created.body.saml.certificates).toEqual([expect.objectContaining({ fingerprintSha256: fingerprint(tenDays), expiresSoon: true, expired: false })]);
  await t.app.metadataRefresher.refreshOnce();
  await t.app.metadataRefresher.refreshOnce();
  const events = await eventsOf(a.orgId, created.body.id, 'connection.certificate_expiring');
  expect(events).toHaveLength(1);
  expect(events[0]!.after).toMatchObject({ fingerprintSha256: fingerprint(tenDays), subject: 'CN=Okta ending soon', expired: false });
  const got = await a.owner.api('GET', path(a, `/${created.body.id}`));
  expect(got.body.saml.certificates[0].expiresSoon).toBe(true);
  expect(got.text).not.toContain('warnedFingerprints');
});

test('a hand-entered IdP certificate that comes within 30 days of its end is reported by the refresher, once', async () => {
  // Made as it was before it came near its end: no warning at creation (the fixture writes the row directly).
  const connection = await samlConnection(t, a.orgId, { idpEntityId: 'https://idp.example/hand', ssoUrl: 'https://idp.example/sso', certificates: [testCertificate('Hand-entered ending soon', 5)] });
  expect(await eventsOf(a.orgId, connection.id, 'connection.certificate_expiring')).toHaveLength(0);
  await t.app.metadataRefresher.refreshOnce();
  await t.app.metadataRefresher.refreshOnce();
  const events = await eventsOf(a.orgId, connection.id, 'connection.certificate_expiring');
  expect(events).toHaveLength(1);
  expect(events[0]!.after).toMatchObject({ subject: 'CN=Hand-entered ending soon', expired: false });
});
