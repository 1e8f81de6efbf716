import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from '../helpers/app.ts';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';
import { auditEventsOf, refusalsOf } from '../helpers/snapshot.ts';

// Domain claims through the management API, proven by a TXT record that a DNS server on
// loopback (dns2, not our resolver) publishes; the app resolves through GATEHOUSE_DNS_SERVERS.
let t: TestApp;
let dns: TestDnsServer;
let a: TestOrg;

beforeAll(async () => {
  dns = await startDnsServer();
  t = await startApp({ GATEHOUSE_DNS_SERVERS: dns.address });
  a = await createOrg(t);
});
afterAll(async () => {
  await t.close();
  await dns.close();
});

const path = (org: TestOrg, rest = '') => `/api/v1/orgs/${org.orgId}/domains${rest}`;
const uniqueDomain = () => `d${randomUUID().slice(0, 8)}.example.com`;

// The shared snapshot covers the org's domains rows too.
const expectRefused = refusalsOf(() => t);

async function add(org: TestOrg, domain = uniqueDomain()) {
  const res = await org.owner.api('POST', path(org), { domain });
  expect(res.status).toBe(201);
  return res.body;
}

const publish = (added: { txtRecord: { name: string; value: string } }) => dns.records.set(added.txtRecord.name, [[added.txtRecord.value]]);

test('adding a domain answers the TXT record to publish; get and list show it', async () => {
  const domain = uniqueDomain();
  const res = await a.owner.api('POST', path(a), { domain: `${domain.toUpperCase()}.` });
  expect(res.status).toBe(201);
  expect(res.body).toEqual({
    id: expect.any(String), domain, verified: false, verifiedAt: null, verifiedBy: null,
    txtRecord: { name: `_gatehouse-challenge.${domain}`, type: 'TXT', value: expect.stringMatching(/^gatehouse-domain-verification=[0-9a-f]{32}$/) },
    createdAt: expect.any(String),
  });
  expect((await a.owner.api('GET', path(a, `/${res.body.id}`))).body).toEqual(res.body);
  const list = await a.owner.api('GET', path(a, '?limit=200'));
  expect(list.status).toBe(200);
  expect(list.body.data).toContainEqual(res.body);
  const [event] = (await auditEventsOf(t, a.orgId, 'domain.added')).filter((e) => e.target_id === res.body.id);
  expect(event!.after).toEqual({ domain, verifiedAt: null, verifiedBy: null });
  expect(JSON.stringify(event)).not.toContain(res.body.txtRecord.value.split('=')[1]);
});

test('an internationalised domain is stored in its ASCII form', async () => {
  const res = await a.owner.api('POST', path(a), { domain: `bücher-${randomUUID().slice(0, 6)}.example` });
  expect(res.status).toBe(201);
  expect(res.body.domain).toMatch(/^xn--bcher-.*-[a-z0-9]+\.example$/);
});

test('verify before the record is published: 422 naming the expected record, nothing changed', async () => {
  const added = await add(a);
  const res = await expectRefused(a, () => a.owner.api('POST', path(a, `/${added.id}/verify`)), 422, 'domain.verification_failed');
  expect(res.body.detail).toContain(added.txtRecord.name);
  expect(res.body.detail).toContain(added.txtRecord.value);
  expect((await a.owner.api('GET', path(a, `/${added.id}`))).body.verified).toBe(false);
});

test('verify once the record is published: verified by dns, audited once, idempotent', async () => {
  const added = await add(a);
  dns.records.set(added.txtRecord.name, [['v=spf1 -all'], [added.txtRecord.value]]);
  const res = await a.owner.api('POST', path(a, `/${added.id}/verify`));
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ id: added.id, verified: true, verifiedBy: 'dns', verifiedAt: expect.any(String) });
  const again = await a.owner.api('POST', path(a, `/${added.id}/verify`));
  expect(again.body).toEqual(res.body);
  const events = (await auditEventsOf(t, a.orgId, 'domain.verified')).filter((e) => e.target_id === added.id);
  expect(events).toHaveLength(1);
  expect(events[0]!.before).toMatchObject({ verifiedAt: null });
  expect(events[0]!.after).toMatchObject({ domain: added.domain, verifiedBy: 'dns' });
});

test('a record split into several character-strings is read joined', async () => {
  const added = await add(a);
  const value: string = added.txtRecord.value;
  dns.records.set(added.txtRecord.name, [[value.slice(0, 20), value.slice(20)]]);
  expect((await a.owner.api('POST', path(a, `/${added.id}/verify`))).status).toBe(200);
});

test('a TXT record with another token fails and changes nothing', async () => {
  const added = await add(a);
  dns.records.set(added.txtRecord.name, [[`gatehouse-domain-verification=${'0'.repeat(32)}`]]);
  const res = await expectRefused(a, () => a.owner.api('POST', path(a, `/${added.id}/verify`)), 422, 'domain.verification_failed');
  expect(res.body.detail).toMatch(/expected value/);
});

test('a failing DNS server is a clear 422, not a 500, and changes nothing', async () => {
  const added = await add(a);
  dns.records.set(added.txtRecord.name, 'servfail');
  const res = await expectRefused(a, () => a.owner.api('POST', path(a, `/${added.id}/verify`)), 422, 'domain.verification_failed');
  expect(res.body.detail).toMatch(/look-up .* failed \(ESERVFAIL\)/);
});

test('a domain verified by another org: the claim is allowed, verifying it is 409 domain.taken, nothing changed', async () => {
  const b = await createOrg(t);
  const domain = uniqueDomain();
  const mine = await add(a, domain);
  publish(mine);
  expect((await a.owner.api('POST', path(a, `/${mine.id}/verify`))).status).toBe(200);

  const claim = await add(b, domain);
  expect(claim).toMatchObject({ domain, verified: false });
  // the proof comes first: without its own record, org B learns nothing about org A's claim
  await expectRefused(b, () => b.owner.api('POST', path(b, `/${claim.id}/verify`)), 422, 'domain.verification_failed');
  publish(claim);
  const res = await expectRefused(b, () => b.owner.api('POST', path(b, `/${claim.id}/verify`)), 409, 'domain.taken');
  expect(res.body.detail).toContain(domain);
  expect(await auditEventsOf(t, b.orgId, 'domain.verified')).toEqual([]);
  expect((await a.owner.api('GET', path(a, `/${mine.id}`))).body.verified).toBe(true);
});

test('the same domain twice in one org is 409 domain.exists, whatever its spelling', async () => {
  const domain = uniqueDomain();
  await add(a, domain);
  await expectRefused(a, () => a.owner.api('POST', path(a), { domain }), 409, 'domain.exists');
  await expectRefused(a, () => a.owner.api('POST', path(a), { domain: `${domain.toUpperCase()}.` }), 409, 'domain.exists');
});

describe('names that are not claimable domains are refused (400) and change nothing', () => {
  const label = /each label must be 1 to 63/;
  test.each([
    ['an empty name', '', /required/],
    ['a single label', 'localhost', /at least two labels/],
    ['an IPv4 address', '192.0.2.10', /IP address/],
    ['an IPv6 address', '2001:db8::1', /IP address/],
    ['a bracketed IPv6 address', '[::1]', /IP address/],
    ['a public suffix', 'co.uk', /public suffix/],
    ['a hosting public suffix', 'github.io', /public suffix/],
    ['a name over 253 characters', `${'a'.repeat(60)}.`.repeat(4) + 'example.com', /253/],
    ['a label over 63 characters', `${'a'.repeat(64)}.example.com`, label],
    ['an underscore', 'exa_mple.com', label],
    ['a leading hyphen', '-bad.example.com', label],
    ['an empty label', 'a..example.com', label],
    ['a leading dot', '.example.com', label],
    ['a numeric top-level label', '0x7f.1', /numeric/],
    ['a numeric name', 'example.123', /not a valid domain name/],
    ['a URL', 'https://example.com', /only letters/],
    ['an email address', 'it@example.com', /only letters/],
    ['a percent-encoded letter', 'ex%41mple.com', /only letters/],
    ['a space', 'exa mple.com', /only letters/],
    ['a name over 300 characters', 'a'.repeat(301), /300/],
  ])('%s', async (_what, domain, reason) => {
    const res = await expectRefused(a, () => a.owner.api('POST', path(a), { domain }), 400, 'request.invalid');
    expect(res.body.errors).toEqual([{ field: 'body.domain', message: expect.stringMatching(reason) }]);
  });

  test('a non-string domain and an unknown field', async () => {
    await expectRefused(a, () => a.owner.api('POST', path(a), { domain: 42 }), 400, 'request.invalid');
    await expectRefused(a, () => a.owner.api('POST', path(a), { domain: uniqueDomain(), verified: true }), 400, 'request.invalid');
  });
});

test('members and viewers lack sso:manage: 403 on every domain route, nothing changed', async () => {
  const added = await add(a);
  publish(added);
  for (const role of ['member', 'viewer']) {
    const { api } = await addMember(t, a.orgId, role);
    const calls = [
      () => api('POST', path(a), { domain: uniqueDomain() }),
      () => api('GET', path(a)),
      () => api('GET', path(a, `/${added.id}`)),
      () => api('POST', path(a, `/${added.id}/verify`)),
      () => api('DELETE', path(a, `/${added.id}`)),
    ];
    for (const call of calls) await expectRefused(a, call, 403, 'auth.forbidden');
  }
  const admin = await addMember(t, a.orgId, 'admin');
  expect((await admin.api('POST', path(a, `/${added.id}/verify`))).status).toBe(200);
});

test('org B\'s credential never reaches org A\'s domains: 404 and nothing changed', async () => {
  const b = await createOrg(t);
  const added = await add(a);
  publish(added);
  for (const org of [a, b]) {
    await expectRefused(a, () => b.owner.api('GET', path(org, `/${added.id}`)), 404, org === a ? 'org.not_found' : 'domain.not_found');
    await expectRefused(a, () => b.owner.api('POST', path(org, `/${added.id}/verify`)), 404, org === a ? 'org.not_found' : 'domain.not_found');
    await expectRefused(a, () => b.owner.api('DELETE', path(org, `/${added.id}`)), 404, org === a ? 'org.not_found' : 'domain.not_found');
  }
  expect(JSON.stringify((await b.owner.api('GET', path(b, '?limit=200'))).body)).not.toContain(added.id);
});

test('removing a domain: 204, gone, audited with what it was', async () => {
  const added = await add(a);
  publish(added);
  await a.owner.api('POST', path(a, `/${added.id}/verify`));
  const res = await a.owner.api('DELETE', path(a, `/${added.id}`));
  expect(res.status).toBe(204);
  await expectRefused(a, () => a.owner.api('GET', path(a, `/${added.id}`)), 404, 'domain.not_found');
  await expectRefused(a, () => a.owner.api('DELETE', path(a, `/${added.id}`)), 404, 'domain.not_found');
  const [event] = (await auditEventsOf(t, a.orgId, 'domain.removed')).filter((e) => e.target_id === added.id);
  expect(event!.before).toMatchObject({ domain: added.domain, verifiedBy: 'dns' });
  // once released, another org can verify it
  const b = await createOrg(t);
  const claim = await add(b, added.domain);
  publish(claim);
  expect((await b.owner.api('POST', path(b, `/${claim.id}/verify`))).status).toBe(200);
});

test('a path id that is not a uuid is a 400, not a query', async () => {
  await expectRefused(a, () => a.owner.api('POST', path(a, '/not-a-uuid/verify')), 400, 'request.invalid');
});
