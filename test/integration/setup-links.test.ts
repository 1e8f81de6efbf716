import { generateSpCredentials } from '../../saml/sp-credentials.ts';
import { client, startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';
import { refusalsOf, snapshot } from '../helpers/snapshot.ts';

// Issue 8, item 3: a setup link configures its org's SSO and/or SCIM and nothing else, until it
// expires or is revoked. Billing is off here, so every org has the default plan (enterprise,
// which includes setup_links); `team` (without it) runs in a second app.
let t: TestApp;
let a: TestOrg;
let b: TestOrg;
const expectRefused = refusalsOf(() => t);

beforeAll(async () => {
  t = await startApp();
  a = await createOrg(t);
  b = await createOrg(t);
});
afterAll(() => t.close());

const links = (org: TestOrg) => `/api/v1/orgs/${org.orgId}/setup-links`;
const tokenOf = (url: string) => url.split('/admin/setup/')[1]!;

async function newLink(org: TestOrg, scope: 'sso' | 'scim' | 'both', extra: Record<string, unknown> = {}) {
  const res = await org.owner.api('POST', links(org), { scope, ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, token: tokenOf(res.body.url), api: client(t.url, tokenOf(res.body.url)) };
}

function samlBody(extra: Record<string, unknown> = {}) {
  return { type: 'saml', name: 'Okta', idpEntityId: 'https://idp.example/x', ssoUrl: 'https://idp.example/sso', certificates: [generateSpCredentials('idp').certificatePem], ...extra };
}

async function auditTypes(org: TestOrg, actorId: string): Promise<string[]> {
  const rows = await t.db.inOrg(org.orgId, (em) => em.execute<{ type: string }[]>(
    'SELECT type FROM audit_events WHERE actor_type = ? AND actor_id = ? ORDER BY seq', ['setup_link', actorId]));
  return rows.map((r) => r.type);
}

describe('creating, listing and revoking', () => {
  test('an admin creates a setup link: the URL is shown once, the list never shows the secret, only a hash is stored, audited', async () => {
    const admin = await addMember(t, a.orgId, 'admin');
    const res = await admin.api('POST', links(a), { scope: 'sso', note: 'for Acme IT' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ scope: 'sso', note: 'for Acme IT', createdBy: admin.userId, revokedAt: null });
    expect(res.body.url).toMatch(new RegExp(`^${t.config.publicUrl}/admin/setup/ghs_${res.body.id}_[0-9a-f]{48}$`));
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(71.9 * 3_600_000); // default 72 h
    const secret = res.body.url.split('_').pop();
    const list = await admin.api('GET', links(a));
    expect(list.status).toBe(200);
    expect(list.body.data.find((l: { id: string }) => l.id === res.body.id)).toMatchObject({ scope: 'sso', note: 'for Acme IT' });
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body.data.every((l: Record<string, unknown>) => l.url === undefined)).toBe(true);
    const [row] = await t.db.inOrg(a.orgId, (em) => em.execute<{ secret_hash: string }[]>('SELECT secret_hash FROM setup_links WHERE id = ?', [res.body.id]));
    expect(row!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.secret_hash).not.toContain(secret);
    const [event] = await t.db.inOrg(a.orgId, (em) => em.execute<{ actor_id: string; after: unknown }[]>(
      `SELECT actor_id, after FROM audit_events WHERE type = 'setup_link.created' AND target_id = ?`, [res.body.id]));
    expect(JSON.stringify(event!.after)).not.toContain(secret);
  });

  test('expiresInHours outside 1..720 or an unknown scope is refused with 400 and nothing is written', async () => {
    for (const body of [{ scope: 'sso', expiresInHours: 0 }, { scope: 'sso', expiresInHours: 721 }, { scope: 'members' }, { scope: 'sso', orgId: b.orgId }]) {
      await expectRefused(a, () => a.owner.api('POST', links(a), body), 400, 'request.invalid');
    }
  });

  test('a revoked setup link answers 401 at once; revoking again changes nothing and audits once', async () => {
    const link = await newLink(a, 'sso');
    expect((await link.api('GET', `/api/v1/orgs/${a.orgId}/connections`)).status).toBe(200);
    const revoke = await a.owner.api('DELETE', `${links(a)}/${link.id}`);
    expect(revoke.status).toBe(200);
    expect(revoke.body.revokedAt).not.toBeNull();
    expect((await link.api('GET', `/api/v1/orgs/${a.orgId}/connections`)).status).toBe(401);
    expect((await a.owner.api('DELETE', `${links(a)}/${link.id}`)).status).toBe(200);
    const events = await t.db.inOrg(a.orgId, (em) => em.execute(`SELECT 1 FROM audit_events WHERE type = 'setup_link.revoked' AND target_id = ?`, [link.id]));
    expect(events).toHaveLength(1);
  });

  test('an expired, unknown, malformed or wrong-secret setup link answers the same 401', async () => {
    const link = await newLink(a, 'sso', { expiresInHours: 1 });
    await t.db.inOrg(a.orgId, (em) => em.execute(`UPDATE setup_links SET expires_at = now() - interval '1 second' WHERE id = ?`, [link.id]));
    const other = await newLink(a, 'sso');
    const tokens = [link.token, `ghs_0123456789abcdef_${'0'.repeat(48)}`, 'ghs_nonsense', other.token.slice(0, -4) + '0000'];
    for (const token of tokens) {
      const res = await client(t.url, token)('GET', `/api/v1/orgs/${a.orgId}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('auth.unauthenticated');
    }
  });

  test('a member or a viewer cannot create (403) nor revoke a setup link; nothing is written', async () => {
    const link = await newLink(a, 'both');
    for (const role of ['member', 'viewer']) {
      const person = await addMember(t, a.orgId, role);
      await expectRefused(a, () => person.api('POST', links(a), { scope: 'sso' }), 403, 'auth.forbidden');
      await expectRefused(a, () => person.api('DELETE', `${links(a)}/${link.id}`), 403, 'auth.forbidden');
    }
  });

  test('a link dies with its creator\'s membership', async () => {
    const admin = await addMember(t, a.orgId, 'admin');
    const res = await admin.api('POST', links(a), { scope: 'scim' });
    const link = client(t.url, tokenOf(res.body.url));
    expect((await link('GET', `/api/v1/orgs/${a.orgId}/directories`)).status).toBe(200);
    expect((await a.owner.api('DELETE', `/api/v1/orgs/${a.orgId}/members/${admin.userId}`)).status).toBe(204);
    expect((await link('GET', `/api/v1/orgs/${a.orgId}/directories`)).status).toBe(401);
  });
});

describe('what an sso link reaches', () => {
  test('it creates a connection and a domain, audited as the setup link', async () => {
    const link = await newLink(a, 'sso');
    const connection = await link.api('POST', `/api/v1/orgs/${a.orgId}/connections`, samlBody({ defaultRole: 'member' }));
    expect(connection.status).toBe(201);
    const domain = await link.api('POST', `/api/v1/orgs/${a.orgId}/domains`, { domain: `it-${link.id}.example` });
    expect(domain.status).toBe(201);
    expect((await link.api('GET', `/api/v1/orgs/${a.orgId}`)).status).toBe(200);
    expect(await auditTypes(a, link.id)).toEqual(['connection.created', 'domain.added']);
  });

  test('it cannot hand out a role above member through its connection (403), nothing written', async () => {
    const link = await newLink(a, 'sso');
    await expectRefused(a, () => link.api('POST', `/api/v1/orgs/${a.orgId}/connections`, samlBody({ defaultRole: 'admin' })), 403, 'role.above_caller');
  });

  test('it gets 403 on members, API keys, invitations, roles, billing, directories, audit, org PATCH and setup links; nothing changes', async () => {
    const link = await newLink(a, 'sso');
    const o = `/api/v1/orgs/${a.orgId}`;
    const before = await snapshot(t, a.orgId);
    const attempts: [string, string, unknown?][] = [
      ['GET', `${o}/members`], ['PATCH', `${o}/members/${a.owner.userId}`, { role: 'viewer' }],
      ['GET', `${o}/api-keys`], ['POST', `${o}/api-keys`, { name: 'mine', role: 'viewer' }],
      ['GET', `${o}/invitations`], ['POST', `${o}/invitations`, { email: uniqueEmail(), role: 'member' }],
      ['GET', `${o}/roles`], ['POST', `${o}/roles`, { key: 'sneaky', name: 'Sneaky', permissions: ['org:read'] }],
      ['GET', `${o}/billing`], ['POST', `${o}/billing/portal`, {}],
      ['GET', `${o}/directories`], ['POST', `${o}/directories`, { name: 'X', defaultRole: 'member' }],
      ['GET', `${o}/audit-events`], ['PATCH', `${o}`, { ssoEnforced: true }], ['PATCH', `${o}`, { name: 'Renamed' }],
      ['GET', `${o}/teams`], ['GET', `${o}/service-accounts`], ['POST', '/api/v1/authorize', { orgId: a.orgId, subject: { type: 'user', id: a.owner.userId }, permission: 'org:read' }],
      ['GET', `${o}/setup-links`], ['POST', `${o}/setup-links`, { scope: 'sso' }], ['DELETE', `${o}/setup-links/${link.id}`],
    ];
    const answers = Object.fromEntries(await Promise.all(attempts.map(async ([m, p, body]) => [`${m} ${p}`, (await link.api(m, p, body)).status])));
    expect(answers).toEqual(Object.fromEntries(attempts.map(([m, p]) => [`${m} ${p}`, 403])));
    expect((await link.api('POST', '/api/v1/orgs', { name: 'Mine' })).status).toBe(403);
    expect(await snapshot(t, a.orgId)).toEqual(before);
  });

  test('it gets 404 on another org\'s paths', async () => {
    const link = await newLink(a, 'both');
    const before = await snapshot(t, b.orgId);
    for (const path of ['', '/connections', '/domains', '/directories', '/setup-links']) {
      expect((await link.api('GET', `/api/v1/orgs/${b.orgId}${path}`)).status).toBe(404);
    }
    expect((await link.api('POST', `/api/v1/orgs/${b.orgId}/connections`, samlBody())).status).toBe(404);
    expect(await snapshot(t, b.orgId)).toEqual(before);
  });
});

describe('what a scim link reaches', () => {
  test('it sees directories but gets 403 on connections, domains, members and keys; nothing changes', async () => {
    const link = await newLink(a, 'scim');
    const o = `/api/v1/orgs/${a.orgId}`;
    expect((await link.api('GET', `${o}/directories`)).status).toBe(200);
    const before = await snapshot(t, a.orgId);
    for (const [m, p, body] of [['GET', `${o}/connections`], ['POST', `${o}/connections`, samlBody()], ['GET', `${o}/domains`],
      ['POST', `${o}/domains`, { domain: 'x.example' }], ['GET', `${o}/members`], ['POST', `${o}/api-keys`, { name: 'k', role: 'viewer' }]] as [string, string, unknown?][]) {
      expect([`${m} ${p}`, (await link.api(m, p, body)).status]).toEqual([`${m} ${p}`, 403]);
    }
    expect(await snapshot(t, a.orgId)).toEqual(before);
  });
});

describe('a scim link sets up a directory', () => {
  test('it creates a directory (token shown once) with a role up to member, never admin', async () => {
    const link = await newLink(a, 'scim');
    const o = `/api/v1/orgs/${a.orgId}`;
    const made = await link.api('POST', `${o}/directories`, { name: 'Okta', defaultRole: 'member' });
    expect(made.status).toBe(201);
    expect(made.body.token).toEqual(expect.any(String));
    expect((await link.api('GET', `${o}/directories/${made.body.id}`)).body.token).toBeUndefined();
    const before = await snapshot(t, a.orgId);
    expect((await link.api('POST', `${o}/directories`, { name: 'Entra', defaultRole: 'admin' })).status).toBe(403);
    expect(await snapshot(t, a.orgId)).toEqual(before);
  });

  test('an admin-made scim link stops working once its creator loses a member power a directory uses', async () => {
    const role = await a.owner.api('POST', `/api/v1/orgs/${a.orgId}/roles`, { key: `dir-${Date.now()}`, name: 'Directory keeper', permissions: ['org:read', 'directories:manage', 'members:invite', 'members:update', 'members:remove'] });
    expect(role.status).toBe(201);
    const keeper = await addMember(t, a.orgId, role.body.key);
    const res = await keeper.api('POST', links(a), { scope: 'scim' });
    expect(res.status).toBe(201);
    const link = client(t.url, tokenOf(res.body.url));
    expect((await link('GET', `/api/v1/orgs/${a.orgId}/directories`)).status).toBe(200);
    expect((await a.owner.api('PATCH', `/api/v1/orgs/${a.orgId}/roles/${role.body.key}`, { permissions: ['org:read', 'directories:manage'] })).status).toBe(200);
    expect((await link('GET', `/api/v1/orgs/${a.orgId}/directories`)).status).toBe(401);
  });
});

describe('the portal\'s own endpoint', () => {
  test('GET /setup-links/current names the link\'s org, scope and expiry; any other credential gets 404', async () => {
    const link = await newLink(a, 'both');
    const res = await link.api('GET', '/api/v1/setup-links/current');
    expect(res.status).toBe(200);
    const [org] = await t.db.inOrg(a.orgId, (em) => em.execute<{ name: string; slug: string }[]>('SELECT name, slug FROM organizations'));
    expect(res.body).toMatchObject({ orgId: a.orgId, orgName: org!.name, orgSlug: org!.slug, scope: 'both' });
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
    expect((await a.owner.api('GET', '/api/v1/setup-links/current')).status).toBe(404);
  });
});

describe('the plan', () => {
  let team: TestApp;
  afterAll(() => team?.close());

  test('an admin whose plan lacks setup_links gets 402 plan.feature_unavailable and nothing is written', async () => {
    team = await startApp({ GATEHOUSE_DEFAULT_PLAN: 'team' });
    const org = await createOrg(team);
    const before = await snapshot(team, org.orgId);
    const res = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/setup-links`, { scope: 'sso' });
    expect(res.status).toBe(402);
    expect(res.body.code).toBe('plan.feature_unavailable');
    expect(await snapshot(team, org.orgId)).toEqual(before);
  });
});
