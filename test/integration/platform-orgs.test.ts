import { client, startApp, startAppAtPublicUrl, type Client, type TestApp } from '../helpers/app.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { busyOrg, platformKey, type BusyOrg } from '../helpers/platform-fixture.ts';
import { relyingParty, testPassword, tokensFor } from '../helpers/sign-in.ts';

// GET /api/v1/platform/orgs (issue 8 item 5): the platform team's overview of every org, for
// platform keys only, with counts and health and never an org's secrets, people or audit trail.
// Billing is on here (Stripe at a closed port: nothing is called), so plans come from org_billing.
let t: TestApp;
let platform: Client;
let busy: BusyOrg;
let quiet: TestOrg;

const itemKeys = ['billingStatus', 'createdAt', 'id', 'members', 'name', 'pendingInvitations', 'plan', 'scim', 'slug', 'sso'];
const forbidden = /secret|token|email|payload|metadata|xml|private|key$|pem|certificates|hash|audit|resource|password/i;

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) keysOf(v, into);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) into.push(k), keysOf(v, into);
  return into;
}

async function find(q: string, caller = platform) {
  const res = await caller('GET', `/api/v1/platform/orgs?q=${encodeURIComponent(q)}`);
  expect(res.status).toBe(200);
  return res;
}

beforeAll(async () => {
  t = await startAppAtPublicUrl({ STRIPE_SECRET_KEY: 'sk_test_platform', STRIPE_WEBHOOK_SECRET: 'whsec_platform', STRIPE_API_BASE: 'http://127.0.0.1:9' });
  platform = client(t.url, await platformKey(t));
  busy = await busyOrg(t, 'Busy Platform');
  quiet = await createOrg(t, `Quiet Platform ${busy.name.split(' ').at(-1)}`);
});
afterAll(() => t.close());

test('a platform key lists orgs with their plan, counts and SSO/SCIM health', async () => {
  const res = await find(busy.name);
  expect(res.body.data).toHaveLength(1);
  const item = res.body.data[0];
  expect(item).toEqual({
    id: busy.org.orgId, name: busy.name, slug: busy.org.slug, createdAt: expect.any(String),
    plan: 'enterprise', billingStatus: 'active', members: 3, pendingInvitations: 1,
    sso: { connections: 2, disabled: 1, disabledByPlan: 0, certificateExpiresAt: expect.any(String) },
    scim: { directories: 1, lastSyncAt: expect.any(String) },
  });
  // the SAML IdP's soonest certificate (10 days), not its later one
  expect(Math.abs(Date.parse(item.sso.certificateExpiresAt) - busy.certificateExpiresAt.getTime())).toBeLessThan(2 * 24 * 3600 * 1000);
  expect(Date.now() - Date.parse(item.scim.lastSyncAt)).toBeLessThan(5 * 60_000);
});

test('an org without a subscription, connections or directories: free, owner only, nothing to report', async () => {
  const res = await find(quiet.slug);
  expect(res.body.data).toEqual([{
    id: quiet.orgId, name: expect.stringMatching(/^Quiet Platform /), slug: quiet.slug, createdAt: expect.any(String),
    plan: 'free', billingStatus: 'none', members: 1, pendingInvitations: 0,
    sso: { connections: 0, disabled: 0, disabledByPlan: 0, certificateExpiresAt: null },
    scim: { directories: 0, lastSyncAt: null },
  }]);
});

test('an item has exactly the overview\'s keys and no field named like a secret, a person or a payload', async () => {
  const res = await find(busy.name);
  const item = res.body.data[0];
  expect(Object.keys(item).sort()).toEqual(itemKeys);
  expect(Object.keys(item.sso).sort()).toEqual(['certificateExpiresAt', 'connections', 'disabled', 'disabledByPlan']);
  expect(Object.keys(item.scim).sort()).toEqual(['directories', 'lastSyncAt']);
  expect(keysOf(res.body).filter((k) => forbidden.test(k))).toEqual([]);
  for (const secret of Object.values(busy.secrets)) expect(res.text).not.toContain(secret);
});

test('a past-due subscription past its grace shows free with its status; within grace, its plan', async () => {
  const lapsed = await createOrg(t, `Lapsed Platform ${busy.name.split(' ').at(-1)}`);
  await t.db.inOrg(lapsed.orgId, (em) => em.execute(
    `INSERT INTO org_billing (org_id, plan, status, grace_until) VALUES (?, 'team', 'past_due', now() - interval '1 day')`, [lapsed.orgId]));
  expect((await find(lapsed.slug)).body.data[0]).toMatchObject({ plan: 'free', billingStatus: 'past_due' });
  await t.db.inOrg(lapsed.orgId, (em) => em.execute(`UPDATE org_billing SET grace_until = now() + interval '1 day' WHERE org_id = ?`, [lapsed.orgId]));
  expect((await find(lapsed.slug)).body.data[0]).toMatchObject({ plan: 'team', billingStatus: 'past_due' });
});

test('with billing off every org shows the configured default plan', async () => {
  const off = await startApp({ GATEHOUSE_DEFAULT_PLAN: 'team' });
  try {
    const res = await client(off.url, await platformKey(off))('GET', `/api/v1/platform/orgs?q=${encodeURIComponent(busy.name)}`);
    expect(res.status).toBe(200);
    expect(res.body.data[0]).toMatchObject({ id: busy.org.orgId, plan: 'team', billingStatus: 'active' });
  } finally {
    await off.close();
  }
});

test('cursor pagination walks every org once; q matches name or slug, case-insensitively, its % and _ literally', async () => {
  const suffix = busy.name.split(' ').at(-1)!;
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { data: { id: string }[]; nextCursor: string | null } } =
      await platform('GET', `/api/v1/platform/orgs?limit=1&q=${suffix}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    expect(page.body.data.length).toBeLessThanOrEqual(1);
    seen.push(...page.body.data.map((o) => o.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(seen).toEqual([...seen].sort());
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen).toEqual(expect.arrayContaining([busy.org.orgId, quiet.orgId]));
  expect((await find(busy.name.toUpperCase())).body.data.map((o: { id: string }) => o.id)).toEqual([busy.org.orgId]);
  expect((await find('%')).body.data).toEqual([]);
  expect((await find(`Busy_Platform ${suffix}`)).body.data).toEqual([]);
});

test('bad query input is 400: an unknown parameter, a made-up cursor, an empty or overlong q, a limit out of range', async () => {
  for (const qs of ['email=x', 'cursor=bm90LWEtY3Vyc29y', 'q=', `q=${'x'.repeat(101)}`, 'limit=0', 'limit=201']) {
    const res = await platform('GET', `/api/v1/platform/orgs?${qs}`);
    expect({ qs, status: res.status, code: res.body.code }).toEqual({ qs, status: 400, code: 'request.invalid' });
  }
});

test('no credential: 401', async () => {
  const res = await client(t.url)('GET', '/api/v1/platform/orgs');
  expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'auth.unauthenticated' });
});

test('a wrong or malformed platform key: 401', async () => {
  const real = (await platformKey(t)).slice(0, -4);
  for (const key of [`${real}0000`, 'ghp_0123456789abcdef_nope']) {
    const res = await client(t.url, key)('GET', '/api/v1/platform/orgs');
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'auth.unauthenticated' });
  }
});

test('an org owner\'s API key: 403 auth.platform_key_required, no data', async () => {
  const res = await busy.org.owner.api('GET', '/api/v1/platform/orgs');
  expect({ status: res.status, code: res.body.code, data: res.body.data }).toEqual({ status: 403, code: 'auth.platform_key_required', data: undefined });
});

test('a member\'s access token from the issuer: 403, no data', async () => {
  const { rp } = await relyingParty(t);
  const tokens = await tokensFor(t, rp, { organization: busy.org.orgId, resource: `${t.url}/api/v1` }, { email: busy.member.email, password: testPassword });
  const res = await client(t.url, tokens.access_token)('GET', '/api/v1/platform/orgs');
  expect({ status: res.status, code: res.body.code, data: res.body.data }).toEqual({ status: 403, code: 'auth.platform_key_required', data: undefined });
});

test('the platform role may read when directory users and groups changed, never who they are', async () => {
  await expect(t.db.asPlatform((em) => em.execute('SELECT email FROM directory_users LIMIT 1'))).rejects.toThrow(/permission denied/);
  await expect(t.db.asPlatform((em) => em.execute('SELECT resource FROM directory_users LIMIT 1'))).rejects.toThrow(/permission denied/);
  await expect(t.db.asPlatform((em) => em.execute('SELECT display_name FROM directory_groups LIMIT 1'))).rejects.toThrow(/permission denied/);
  await expect(t.db.asPlatform((em) => em.execute(`UPDATE directory_users SET updated_at = now() WHERE org_id = ?`, [busy.org.orgId]))).rejects.toThrow(/permission denied/);
});
