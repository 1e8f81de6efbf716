import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import { mfaDeps, MfaService } from '../../src/modules/users/mfa.service.ts';
import { hashPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent, readForm } from '../helpers/browser.ts';
import { redirectUri, relyingParty } from '../helpers/sign-in.ts';
import { createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';
import { auditEventsOf, snapshot } from '../helpers/snapshot.ts';

// Two-step verification in the hosted sign-in, with openid-client as the relying party and
// TOTP codes computed here with node:crypto (RFC 4226 HOTP over RFC 6238 time steps), not with
// the library the server uses.
const password = 'correct horse battery staple';
let t: TestApp;
let rp: oidc.Configuration;
let org: TestOrg;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  org = await createOrg(t);
  ({ rp } = await relyingParty(t));
});
afterAll(() => t.close());

// --- the independent TOTP peer -------------------------------------------------------------

function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  return Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
}

/** The 6-digit code of `secret` for the time step `offset` steps from now. */
function totp(secret: string, offset = 0): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offset));
  const mac = createHmac('sha1', base32Decode(secret)).update(message).digest();
  const o = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** A code of the same secret that is not valid anywhere in the ±1 step window. */
function wrongCode(secret: string): string {
  const valid = new Set([-2, -1, 0, 1, 2].map((d) => totp(secret, d)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}

// --- people and sign-ins --------------------------------------------------------------------

async function person(roles: [TestOrg, string][] = [[org, 'member']]): Promise<{ id: string; email: string }> {
  const email = uniqueEmail('mfa');
  const user = await t.db.withoutOrg(async (em) => new UsersRepository(em).create({ email, name: null, passwordHash: await hashPassword(password) }));
  for (const [o, role] of roles) {
    await t.db.inOrg(o.orgId, (em) => new MembersRepository(em).create({ orgId: o.orgId, userId: user.id, role, source: 'invite' }));
  }
  return { id: user.id, email };
}

/** Enrols TOTP through the service with the current step's code: the secret, that code and the recovery codes. */
async function enrol(userId: string): Promise<{ secret: string; firstCode: string; recoveryCodes: string[] }> {
  const deps = mfaDeps(t.config, t.app.services.secrets);
  const { secret } = await t.db.withoutOrg((em) => new MfaService(em, deps).startEnrolment(userId));
  const firstCode = totp(secret);
  const codes = await t.db.withoutOrg((em) => new MfaService(em, deps).confirmEnrolment(userId, firstCode));
  if (!Array.isArray(codes)) throw codes;
  return { secret, firstCode, recoveryCodes: codes };
}

type Page = Awaited<ReturnType<FormAgent['request']>>;

interface Started {
  agent: FormAgent;
  page: Page;
  verifier: string;
  state: string;
  nonce: string;
}

/** An authorization request in `agent`'s browser, followed as far as the sign-in's first page (or back to the client). */
async function authorize(agent: FormAgent, params: Record<string, string> = {}): Promise<Started> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid email org', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state, nonce, prompt: 'consent', ...params,
  });
  return { agent, page: await agent.follow(url.href, t.url), verifier, state, nonce };
}

/** An authorization request through the email and password steps; `page` is what the password post led to. */
async function startSignIn(user: { email: string }, params: Record<string, string> = {}): Promise<Started> {
  const started = await authorize(new FormAgent(), params);
  const { agent } = started;
  let page = started.page;
  let form = readForm(page.html, page.url);
  page = await agent.request(form.action, { form: { ...form.fields, email: user.email } });
  form = readForm(page.html, page.url);
  page = await agent.request(form.action, { form: { ...form.fields, password } });
  return { ...started, page };
}

/** Follows the sign-in's own redirects: the next page, or the way out to the relying party. */
async function next(s: Started, page: Page): Promise<Page> {
  return page.location?.startsWith(t.url) ? s.agent.follow(page.location, t.url) : page;
}

/** Posts `fields` into the first form of `page` (its CSRF token included) and follows on. */
async function submit(s: Started, page: Page, fields: Record<string, string>): Promise<Page> {
  const form = readForm(page.html, page.url);
  return next(s, await s.agent.request(form.action, { form: { ...form.fields, ...fields } }));
}

/** The password step's outcome when a code is asked for: the code page. */
async function codePage(user: { email: string }, params: Record<string, string> = {}): Promise<{ s: Started; page: Page }> {
  const s = await startSignIn(user, params);
  expect(s.page.status).toBe(303);
  expect(s.page.location).toMatch(/\/interaction\/[^/]+\/totp$/);
  return { s, page: await next(s, s.page) };
}

async function idTokenOf(s: Started, page: Page) {
  expect(page.location).toMatch(/^https:\/\/rp\.example\.test\/callback\?code=/);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
  return tokens.claims()!;
}

function totpRow(userId: string) {
  return t.db.withoutOrg(async (em) => (await em.execute<{ confirmed_at: Date | null; last_used_step: string | null; secret_sealed: string }[]>(
    'SELECT confirmed_at, last_used_step, secret_sealed FROM user_totp WHERE user_id = ?', [userId]))[0] ?? null);
}

function recoveryRows(userId: string) {
  return t.db.withoutOrg((em) => em.execute<{ code_hash: string; used_at: Date | null }[]>(
    'SELECT code_hash, used_at FROM user_recovery_codes WHERE user_id = ? ORDER BY code_hash', [userId]));
}

// --- the sign-in ----------------------------------------------------------------------------

describe('signing in with a second factor', () => {
  test('password, then a TOTP code: the ID token says amr pwd + otp and carries the org', async () => {
    const user = await person();
    const { secret } = await enrol(user.id);
    const { s, page } = await codePage(user);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<label for="code">Verification code<\/label>/);
    expect(page.html).toMatch(/autocomplete="one-time-code"/);
    expect(page.html).not.toMatch(/<script/i);
    const done = await submit(s, page, { code: totp(secret, 1) });
    const claims = await idTokenOf(s, done);
    expect(claims).toMatchObject({ sub: user.id, org_id: org.orgId });
    expect(claims.amr).toEqual(['pwd', 'otp']);
  });

  test('without two-step verification the password alone signs in, with amr pwd', async () => {
    const user = await person();
    const s = await startSignIn(user);
    const claims = await idTokenOf(s, await next(s, s.page));
    expect(claims.amr).toEqual(['pwd']);
  });

  test('a wrong code is refused (401) and spends nothing; the right code still works after it', async () => {
    const user = await person();
    const { secret } = await enrol(user.id);
    const before = await totpRow(user.id);
    const { s, page } = await codePage(user);
    const refused = await submit(s, page, { code: wrongCode(secret) });
    expect(refused.status).toBe(401);
    expect(refused.location).toBeNull();
    expect(refused.html).toMatch(/That code is not valid/);
    expect(await totpRow(user.id)).toEqual(before);
    const done = await submit(s, refused, { code: totp(secret, 1) });
    expect((await idTokenOf(s, done)).amr).toEqual(['pwd', 'otp']);
  });

  test('a replayed code (the same time step twice) is refused the second time', async () => {
    const user = await person();
    const { secret } = await enrol(user.id);
    const code = totp(secret, 1);
    const first = await codePage(user);
    await idTokenOf(first.s, await submit(first.s, first.page, { code }));
    const spent = await totpRow(user.id);
    const second = await codePage(user);
    const replayed = await submit(second.s, second.page, { code });
    expect(replayed.status).toBe(401);
    expect(replayed.location).toBeNull();
    expect(await totpRow(user.id)).toEqual(spent);
  });

  test('the code that confirmed the enrolment is spent already', async () => {
    const user = await person();
    const { firstCode } = await enrol(user.id);
    const spent = await totpRow(user.id);
    const { s, page } = await codePage(user);
    const refused = await submit(s, page, { code: firstCode });
    expect(refused.status).toBe(401);
    expect(refused.location).toBeNull();
    expect(await totpRow(user.id)).toEqual(spent);
  });

  test('a recovery code signs in once, and not twice', async () => {
    const user = await person();
    const { recoveryCodes } = await enrol(user.id);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const code = recoveryCodes[3]!;
    const first = await codePage(user);
    const recoveryPage = await first.s.agent.request(`${first.page.url}?recovery=1`);
    expect(recoveryPage.html).toMatch(/<label for="code">Recovery code<\/label>/);
    // typed loosely: upper case, no dash, spaces around
    const done = await submit(first.s, recoveryPage, { code: ` ${code.replace('-', '').toUpperCase()} ` });
    expect((await idTokenOf(first.s, done)).amr).toEqual(['pwd', 'otp']);
    const used = await recoveryRows(user.id);
    expect(used.filter((r) => r.used_at)).toHaveLength(1);

    const second = await codePage(user);
    const again = await submit(second.s, second.page, { code });
    expect(again.status).toBe(401);
    expect(again.location).toBeNull();
    expect(await recoveryRows(user.id)).toEqual(used);
  });

  test('posting to the org step while the second factor is pending is refused, and signs no one in', async () => {
    const other = await createOrg(t);
    const user = await person([[org, 'member'], [other, 'member']]);
    const { secret } = await enrol(user.id);
    const { s, page } = await codePage(user);
    const orgStep = page.url.replace(/\/totp$/, '/org');
    const csrf = readForm(page.html, page.url).fields.csrf!;
    const skipped = await s.agent.request(orgStep, { form: { csrf, organization: org.orgId } });
    expect(skipped.status).toBe(403);
    expect(skipped.location).toBeNull();
    expect(skipped.html).toMatch(/Enter the code from your authenticator app first/);
    // the code step is still where this sign-in stands
    const done = await submit(s, page, { code: totp(secret, 1) });
    expect(done.html).toMatch(/name="organization"/);
  });

  test('going to the provider\'s resume URL while the factor is pending signs no one in', async () => {
    const user = await person();
    await enrol(user.id);
    const { s, page } = await codePage(user);
    const uid = /\/interaction\/([^/]+)\/totp$/.exec(page.url)![1];
    const resumed = await s.agent.follow(`${t.url}/oidc/auth/${uid}`, t.url);
    expect(resumed.location ?? '').not.toMatch(/^https:\/\/rp\.example\.test/);
    // back at the start of a sign-in: the email step
    expect(resumed.html).toMatch(/name="email"/);
  });

  test('the code step without a password first is refused', async () => {
    const user = await person();
    await enrol(user.id);
    const { page } = await codePage(user);
    // another browser (without this sign-in's cookies) at the same step
    const res = await new FormAgent().request(page.url);
    expect(res.status).toBe(400);
    expect(res.html).not.toMatch(/name="code"/);
  });

  test('a session from before enrolment: the next sign-in through it asks for the code; one that used the code does not', async () => {
    const user = await person();
    const first = await startSignIn(user);
    expect((await idTokenOf(first, await next(first, first.page))).amr).toEqual(['pwd']);
    const { secret } = await enrol(user.id);
    // the same browser, signed in already: the provider goes straight to the consent step
    const again = await authorize(first.agent);
    expect(again.page.url).toMatch(/\/totp$/);
    const claims = await idTokenOf(again, await submit(again, again.page, { code: totp(secret, 1) }));
    expect(claims.amr).toEqual(['pwd', 'otp']);
    const third = await authorize(first.agent);
    expect((await idTokenOf(third, third.page)).amr).toEqual(['pwd', 'otp']);
  });

  test('after five wrong codes the right one is refused for a while (429), and nothing is spent', async () => {
    const user = await person();
    const { secret } = await enrol(user.id);
    const { s, page } = await codePage(user);
    let current = page;
    for (let i = 0; i < 5; i++) {
      current = await submit(s, current, { code: wrongCode(secret) });
      expect(current.status).toBe(401);
    }
    const before = await totpRow(user.id);
    const locked = await submit(s, current, { code: totp(secret, 1) });
    expect(locked.status).toBe(429);
    expect(locked.location).toBeNull();
    expect(locked.html).toMatch(/Too many wrong codes/);
    expect(await totpRow(user.id)).toEqual(before);
  });
});

// --- an org that requires a second factor ----------------------------------------------------

describe('an org that requires a second factor of its owners and admins', () => {
  let strict: TestOrg;

  beforeAll(async () => {
    strict = await createOrg(t);
    const res = await strict.owner.api('PATCH', `/api/v1/orgs/${strict.orgId}`, { requireMfa: true });
    expect(res.status).toBe(200);
  });

  /** An admin's sign-in into the strict org, up to the enrolment page. */
  async function enrolmentPage(): Promise<{ user: { id: string; email: string }; s: Started; page: Page }> {
    const user = await person([[strict, 'admin']]);
    const s = await startSignIn(user, { organization: strict.orgId });
    expect(s.page.status).toBe(303);
    expect(s.page.location).toMatch(/\/totp-enrol$/);
    return { user, s, page: await next(s, s.page) };
  }

  function secretOn(page: Page): string {
    return /id="totp-secret"[^>]*>([^<]+)</.exec(page.html)![1]!.replace(/\s/g, '');
  }

  test('an admin without TOTP enrols inside the sign-in, sees recovery codes once, and ends in the org with amr otp', async () => {
    const { user, s, page } = await enrolmentPage();
    expect(page.status).toBe(200);
    const secret = secretOn(page);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = /id="totp-uri"[^>]*>([^<]+)</.exec(page.html)![1]!.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c)));
    expect(new URL(uri).searchParams.get('secret')).toBe(secret);
    expect(page.html).toMatch(/<label for="code">/);

    const codes = await submit(s, page, { code: totp(secret) });
    expect(codes.status).toBe(200);
    const shown = [...codes.html.matchAll(/<li><code[^>]*>([^<]+)<\/code><\/li>/g)].map((m) => m[1]);
    expect(shown).toHaveLength(10);
    expect((await totpRow(user.id))!.confirmed_at).not.toBeNull();
    expect(await recoveryRows(user.id)).toHaveLength(10);

    const done = await submit(s, codes, {});
    const claims = await idTokenOf(s, done);
    expect(claims).toMatchObject({ sub: user.id, org_id: strict.orgId, org_role: 'admin' });
    expect(claims.amr).toEqual(['pwd', 'otp']);
    const enrolled = await auditEventsOf(t, strict.orgId, 'mfa.enrolled');
    expect(enrolled.map((e) => e.target_id)).toContain(user.id);
  });

  test('a member of the same org is not asked to enrol', async () => {
    const user = await person([[strict, 'member']]);
    const s = await startSignIn(user, { organization: strict.orgId });
    const claims = await idTokenOf(s, await next(s, s.page));
    expect(claims).toMatchObject({ org_id: strict.orgId, org_role: 'member' });
    expect(claims.amr).toEqual(['pwd']);
    expect(await totpRow(user.id)).toBeNull();
  });

  test('the same admin in an org without the requirement is not asked to enrol', async () => {
    const user = await person([[strict, 'admin'], [org, 'admin']]);
    const s = await startSignIn(user, { organization: org.orgId });
    expect((await idTokenOf(s, await next(s, s.page))).org_id).toBe(org.orgId);
  });

  test('picking the strict org on the org step leads to enrolment too', async () => {
    const user = await person([[strict, 'admin'], [org, 'member']]);
    const s = await startSignIn(user);
    const picked = await submit(s, s.page, { organization: strict.orgId });
    expect(picked.url).toMatch(/\/totp-enrol$/);
    expect(picked.html).toMatch(/id="totp-secret"/);
  });

  test('enrolment confirmed with a wrong code is refused (400) and enrols nothing; the same key is shown again', async () => {
    const { user, s, page } = await enrolmentPage();
    const secret = secretOn(page);
    const before = await snapshot(t, strict.orgId);
    const refused = await submit(s, page, { code: wrongCode(secret) });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/That code is not valid/);
    expect(secretOn(refused)).toBe(secret);
    expect((await totpRow(user.id))!.confirmed_at).toBeNull();
    expect(await recoveryRows(user.id)).toEqual([]);
    expect(await snapshot(t, strict.orgId)).toEqual(before);
  });

  test('posting to the org step while enrolment is pending is refused', async () => {
    const { s, page } = await enrolmentPage();
    const csrf = readForm(page.html, page.url).fields.csrf!;
    const skipped = await s.agent.request(page.url.replace(/\/totp-enrol$/, '/org'), { form: { csrf, organization: strict.orgId } });
    expect(skipped.status).toBe(403);
    expect(skipped.location).toBeNull();
  });

  test('an admin who has TOTP is asked for the code, not for enrolment', async () => {
    const user = await person([[strict, 'admin']]);
    const { secret } = await enrol(user.id);
    const { s, page } = await codePage(user, { organization: strict.orgId });
    const claims = await idTokenOf(s, await submit(s, page, { code: totp(secret, 1) }));
    expect(claims).toMatchObject({ org_id: strict.orgId, amr: ['pwd', 'otp'] });
  });
});

// --- the org setting and enrolment through the management API ---------------------------------

describe('the management API', () => {
  const api = () => `${t.url}/api/v1`;

  async function accessToken(user: { email: string }, o: TestOrg): Promise<string> {
    const s = await startSignIn(user, { organization: o.orgId, resource: api() });
    const page = await next(s, s.page);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.location!), { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, { resource: api() });
    return tokens.access_token;
  }

  async function call(token: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${api()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
  }

  test('requireMfa is in the org view and changes with PATCH by an owner, audited', async () => {
    const o = await createOrg(t);
    expect((await o.owner.api('GET', `/api/v1/orgs/${o.orgId}`)).body.requireMfa).toBe(false);
    const res = await o.owner.api('PATCH', `/api/v1/orgs/${o.orgId}`, { requireMfa: true });
    expect(res.status).toBe(200);
    expect(res.body.requireMfa).toBe(true);
    const [event] = await auditEventsOf(t, o.orgId, 'org.updated');
    expect(event!.before.requireMfa).toBe(false);
    expect(event!.after.requireMfa).toBe(true);
  });

  test('a member cannot change requireMfa (403), and nothing changes', async () => {
    const o = await createOrg(t);
    const member = await person([[o, 'member']]);
    const token = await accessToken(member, o);
    const before = await snapshot(t, o.orgId);
    const res = await call(token, 'PATCH', `/orgs/${o.orgId}`, { requireMfa: true });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('auth.forbidden');
    expect(await snapshot(t, o.orgId)).toEqual(before);
  });

  test('requireMfa must be a boolean', async () => {
    const o = await createOrg(t);
    const before = await snapshot(t, o.orgId);
    const res = await o.owner.api('PATCH', `/api/v1/orgs/${o.orgId}`, { requireMfa: 'yes' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('request.invalid');
    expect(await snapshot(t, o.orgId)).toEqual(before);
  });

  test('enrolment with an API key is refused (403) and stores nothing', async () => {
    const before = await snapshot(t, org.orgId);
    const res = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/me/totp`);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('mfa.user_token_required');
    expect(await totpRow(org.owner.userId)).toBeNull();
    const off = await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/me/totp`, { code: '123456' });
    expect(off.status).toBe(403);
    expect(await snapshot(t, org.orgId)).toEqual(before);
  });

  test('a user enrols with their access token: start, a wrong code (400, nothing on), the right code (recovery codes once), then off with a recovery code', async () => {
    const user = await person([[org, 'member']]);
    const token = await accessToken(user, org);
    const base = `/orgs/${org.orgId}/me/totp`;

    const started = await call(token, 'POST', base);
    expect(started.status).toBe(201);
    expect(started.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(started.body.otpauthUri).toContain(`secret=${started.body.secret}`);
    const row = await totpRow(user.id);
    expect(row!.confirmed_at).toBeNull();
    expect(row!.secret_sealed).not.toContain(started.body.secret);

    const before = await snapshot(t, org.orgId);
    const wrong = await call(token, 'POST', `${base}/confirm`, { code: wrongCode(started.body.secret) });
    expect(wrong.status).toBe(400);
    expect(wrong.type).toMatch(/application\/problem\+json/);
    expect(wrong.body.code).toBe('mfa.invalid_code');
    expect((await totpRow(user.id))!.confirmed_at).toBeNull();
    expect(await snapshot(t, org.orgId)).toEqual(before);

    const confirmed = await call(token, 'POST', `${base}/confirm`, { code: totp(started.body.secret) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.recoveryCodes).toHaveLength(10);
    expect((await auditEventsOf(t, org.orgId, 'mfa.enrolled')).map((e) => e.target_id)).toContain(user.id);
    // only hashes are kept
    const stored = JSON.stringify(await recoveryRows(user.id));
    for (const c of confirmed.body.recoveryCodes) expect(stored).not.toContain(c);

    const again = await call(token, 'POST', base);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('mfa.already_enrolled');

    const keep = await totpRow(user.id);
    const badOff = await call(token, 'DELETE', base, { code: 'zzzzz-zzzzz' });
    expect(badOff.status).toBe(400);
    expect(await totpRow(user.id)).toEqual(keep);

    const off = await call(token, 'DELETE', base, { code: confirmed.body.recoveryCodes[0] });
    expect(off.status).toBe(204);
    expect(await totpRow(user.id)).toBeNull();
    expect(await recoveryRows(user.id)).toEqual([]);
    expect((await auditEventsOf(t, org.orgId, 'mfa.disabled')).map((e) => e.target_id)).toContain(user.id);
  });

  test('confirming with nothing started is a conflict (409)', async () => {
    const user = await person([[org, 'member']]);
    const token = await accessToken(user, org);
    const res = await call(token, 'POST', `/orgs/${org.orgId}/me/totp/confirm`, { code: '123456' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('mfa.no_enrolment');
    expect(await totpRow(user.id)).toBeNull();
  });

  test('wrong codes on the API count towards the same limit as the sign-in\'s', async () => {
    const user = await person([[org, 'member']]);
    const token = await accessToken(user, org);
    const { secret } = await enrol(user.id);
    for (let i = 0; i < 5; i++) expect((await call(token, 'DELETE', `/orgs/${org.orgId}/me/totp`, { code: wrongCode(secret) })).status).toBe(400);
    const locked = await call(token, 'DELETE', `/orgs/${org.orgId}/me/totp`, { code: totp(secret, 1) });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('mfa.too_many_attempts');
    expect((await totpRow(user.id))!.confirmed_at).not.toBeNull();
  });
});
