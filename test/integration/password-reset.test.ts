import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import { maxResetMailsPerHour, requestFloorMs } from '../../src/modules/users/password-reset.service.ts';
import { hashPassword, verifyPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { SignInThrottle } from '../../src/oidc/interactions/sign-in-throttle.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { FormAgent, readForm } from '../helpers/browser.ts';
import { redirectUri, relyingParty } from '../helpers/sign-in.ts';
import { createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';

// Password reset through the hosted pages, driven as a browser would (forms, cookies), with
// openid-client as the relying party for the sign-in before and after.
const oldPassword = 'the old password, long enough';
const newPassword = 'a brand new password, long enough';
let t: TestApp;
let org: TestOrg;
let rp: oidc.Configuration;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  org = await createOrg(t);
  ({ rp } = await relyingParty(t));
});
afterAll(() => t.close());

interface Person { id: string; email: string }

async function person(opts: { password?: string | null } = {}): Promise<Person> {
  const passwordHash = opts.password === null ? null : await hashPassword(opts.password ?? oldPassword);
  const user = await t.db.withoutOrg((em) => new UsersRepository(em).create({ email: uniqueEmail('reset'), name: 'Reset Person', passwordHash }));
  await t.db.inOrg(org.orgId, (em) => new MembersRepository(em).create({ orgId: org.orgId, userId: user.id, role: 'member', source: 'invite' }));
  return { id: user.id, email: user.email };
}

/** An authorization request up to its email page, in a fresh browser. */
async function begin() {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri, scope: 'openid email org', code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256', state,
  });
  const agent = new FormAgent();
  const page = await agent.follow(url.href, t.url);
  return { agent, page, verifier, state };
}

/** From an email page: email, then password; follows the redirects back to the relying party. */
async function signInFrom(agent: FormAgent, emailPage: { html: string; url: string }, email: string, password: string) {
  let form = readForm(emailPage.html, emailPage.url);
  let page = await agent.request(form.action, { form: { ...form.fields, email } });
  form = readForm(page.html, page.url);
  page = await agent.request(form.action, { form: { ...form.fields, password } });
  if (page.location?.startsWith(t.url)) page = await agent.follow(page.location, t.url);
  return page;
}

/** From the sign-in's password step, "Forgot your password?" and the request form for `email`. */
async function askForReset(email: string, from?: Awaited<ReturnType<typeof begin>>) {
  const flow = from ?? (await begin());
  let form = readForm(flow.page.html, flow.page.url);
  const passwordPage = await flow.agent.request(form.action, { form: { ...form.fields, email: 'anyone@example.test' } });
  const forgot = /<a href="([^"]+)">Forgot your password\?<\/a>/.exec(passwordPage.html)?.[1];
  expect(forgot).toMatch(/^\/interaction\/[^/]+\/reset$/);
  const requestPage = await flow.agent.request(new URL(forgot!, t.url).href);
  expect(requestPage.status).toBe(200);
  form = readForm(requestPage.html, requestPage.url);
  const started = performance.now();
  const answer = await flow.agent.request(form.action, { form: { ...form.fields, email } });
  return { ...flow, answer, ms: performance.now() - started };
}

async function mailsTo(email: string): Promise<string[]> {
  const rows = await t.db.asPlatform((em) => em.execute<{ body: string }[]>('SELECT body FROM outbox_messages WHERE recipient = ? ORDER BY id', [email]));
  return rows.map((r) => r.body);
}

function linkIn(body: string): string {
  const link = new RegExp(`${t.url}/password-reset/([A-Za-z0-9_-]{43})`).exec(body)?.[0];
  expect(link).toBeDefined();
  return link!;
}

/** Asks for a reset of `email` and returns the link mailed. */
async function resetLink(email: string): Promise<string> {
  const before = (await mailsTo(email)).length;
  const { answer } = await askForReset(email);
  expect(answer.status).toBe(200);
  const mails = await mailsTo(email);
  expect(mails).toHaveLength(before + 1);
  return linkIn(mails.at(-1)!);
}

/** Opens a mailed link (in a browser of its own) and posts the new-password form. */
async function choose(link: string, fields: Record<string, string>, agent = new FormAgent()) {
  const page = await agent.request(link);
  expect(page.status).toBe(200);
  const form = readForm(page.html, page.url);
  return agent.request(form.action, { form: { ...form.fields, ...fields } });
}

async function sessionsOf(userId: string): Promise<number> {
  const rows = await t.db.withoutOrg((em) => em.execute<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM oidc_models WHERE model = 'Session' AND account_id = ?`, [userId]));
  return rows[0]!.n;
}

/** Everything a refused reset must leave as it was. (One transaction at a time: PGlite has one session.) */
async function stateOf(user: Person) {
  const rows = await t.db.withoutOrg(async (em) => ({
    user: await em.execute('SELECT password_hash, updated_at FROM users WHERE id = ?', [user.id]),
    resets: await em.execute('SELECT token_hash, expires_at, used_at FROM password_resets WHERE user_id = ? ORDER BY id', [user.id]),
  }));
  return { ...rows, sessions: await sessionsOf(user.id), mails: (await mailsTo(user.email)).length };
}

const withoutNonces = (html: string) => html.replace(/name="csrf" value="[^"]+"/g, '').replace(/\/interaction\/[^/"]+/g, '/interaction/UID');

describe('the reset, end to end', () => {
  test('forgot password → mailed link → new password → the same sign-in continues with it; the old password no longer works', async () => {
    const user = await person();
    const flow = await begin();
    const { answer } = await askForReset(user.email, flow);
    expect(answer.status).toBe(200);
    expect(answer.html).toContain('If an account exists for that email, we sent a link');
    const [mail] = await mailsTo(user.email);
    const link = linkIn(mail!);
    // Only the token's hash is stored.
    const token = link.split('/password-reset/')[1]!;
    const [row] = await t.db.withoutOrg((em) => em.execute<{ token_hash: string; ttl: number }[]>(
      `SELECT token_hash, extract(epoch FROM expires_at - created_at)::int AS ttl FROM password_resets WHERE user_id = ?`, [user.id]));
    expect(row).toEqual({ token_hash: createHash('sha256').update(token).digest('hex'), ttl: 3600 });

    const changed = await choose(link, { password: newPassword, confirm: newPassword });
    expect(changed.status).toBe(200);
    expect(changed.html).toContain('Your password has been changed');

    // Back in the sign-in that asked: its "Back to sign in" link resumes the same interaction.
    const back = /<a href="(\/interaction\/[^"]+)">Back to sign in<\/a>/.exec(answer.html)![1]!;
    const emailPage = await flow.agent.request(new URL(back, t.url).href);
    const done = await signInFrom(flow.agent, emailPage, user.email, newPassword);
    expect(done.location).toMatch(/^https:\/\/rp\.example\.test\/callback\?/);
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(done.location!), { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
    expect(tokens.claims()).toMatchObject({ sub: user.id, org_id: org.orgId });

    const again = await begin();
    const refused = await signInFrom(again.agent, again.page, user.email, oldPassword);
    expect(refused.status).toBe(401);
    expect(refused.location).toBeNull();
  });

  test('a reset ends the account\'s sessions and clears its sign-in throttling; other accounts keep theirs', async () => {
    const user = await person();
    const bystander = await person();
    for (const who of [user, bystander]) {
      const flow = await begin();
      expect((await signInFrom(flow.agent, flow.page, who.email, oldPassword)).location).toMatch(/^https:\/\/rp\.example\.test\//);
    }
    expect(await sessionsOf(user.id)).toBe(1);
    const throttle = new SignInThrottle(t.db);
    for (let i = 0; i < 5; i += 1) await throttle.failed(user.email, '198.51.100.7');
    expect(await throttle.blocked(user.email, '198.51.100.8')).toBe(true);

    expect((await choose(await resetLink(user.email), { password: newPassword, confirm: newPassword })).status).toBe(200);
    expect(await sessionsOf(user.id)).toBe(0);
    expect(await sessionsOf(bystander.id)).toBe(1);
    expect(await throttle.blocked(user.email, '198.51.100.8')).toBe(false);
  });

  test('using one link retires the account\'s other outstanding links', async () => {
    const user = await person();
    const first = await resetLink(user.email);
    const second = await resetLink(user.email);
    expect((await choose(second, { password: newPassword, confirm: newPassword })).status).toBe(200);
    const stale = await new FormAgent().request(first);
    expect(stale.status).toBe(410);
    expect(stale.html).toContain('expired');
  });
});

describe('asking for a link says nothing about the account', () => {
  test('unknown email: the same answer as a known one, as slow, and no mail', async () => {
    const user = await person();
    const unknown = uniqueEmail('nobody');
    const known = await askForReset(user.email);
    const missing = await askForReset(unknown);
    expect(missing.answer.status).toBe(known.answer.status);
    expect(withoutNonces(missing.answer.html)).toBe(withoutNonces(known.answer.html));
    expect(known.ms).toBeGreaterThanOrEqual(requestFloorMs - 5);
    expect(missing.ms).toBeGreaterThanOrEqual(requestFloorMs - 5);
    expect(await mailsTo(unknown)).toEqual([]);
    expect(await mailsTo(user.email)).toHaveLength(1);
  });

  test('rate limit: past 3 mails an hour for one email, the same answer and no more mail', async () => {
    const user = await person();
    for (let i = 0; i < maxResetMailsPerHour; i += 1) await resetLink(user.email);
    const before = await stateOf(user);
    const { answer } = await askForReset(user.email);
    expect(answer.status).toBe(200);
    expect(answer.html).toContain('If an account exists for that email, we sent a link');
    expect(await stateOf(user)).toEqual(before);
    expect(before.mails).toBe(maxResetMailsPerHour);
  });

  test('an account without a password (single sign-on) gets the same answer and no mail', async () => {
    const user = await person({ password: null });
    const before = await stateOf(user);
    const { answer } = await askForReset(user.email);
    expect(answer.status).toBe(200);
    expect(answer.html).toContain('If an account exists for that email');
    expect(await stateOf(user)).toEqual(before);
  });

  test('a disabled account gets the same answer and no mail', async () => {
    const user = await person();
    await t.db.withoutOrg((em) => em.execute('UPDATE users SET disabled_at = now() WHERE id = ?', [user.id]));
    const before = await stateOf(user);
    const { answer } = await askForReset(user.email);
    expect(answer.status).toBe(200);
    expect(answer.html).toContain('If an account exists for that email');
    expect(await stateOf(user)).toEqual(before);
  });

  test('an invalid email on the request form: 400, no mail', async () => {
    const user = await person();
    const before = await stateOf(user);
    const { answer } = await askForReset('not an email');
    expect(answer.status).toBe(400);
    expect(answer.html).toContain('Enter a valid email address.');
    expect(await stateOf(user)).toEqual(before);
  });

  test('a request without the interaction\'s CSRF field: 403, no mail', async () => {
    const user = await person();
    const flow = await begin();
    const uid = /\/interaction\/([^/"]+)\//.exec(flow.page.html)![1];
    const before = await stateOf(user);
    const res = await flow.agent.request(`${t.url}/interaction/${uid}/reset`, { form: { email: user.email } });
    expect(res.status).toBe(403);
    expect(await stateOf(user)).toEqual(before);
  });
});

describe('a link that cannot be used changes nothing', () => {
  async function refusedLink(user: Person, link: string, status: number, message: RegExp) {
    const before = await stateOf(user);
    const page = await new FormAgent().request(link);
    expect(page.status).toBe(status);
    expect(page.html).toMatch(message);
    expect(page.html).not.toContain('<form');
    expect(await stateOf(user)).toEqual(before);
  }

  test('expired link: 410', async () => {
    const user = await person();
    const link = await resetLink(user.email);
    // A form opened before the link expired is refused too.
    const agent = new FormAgent();
    const form = readForm((await agent.request(link)).html, link);
    await t.db.withoutOrg((em) => em.execute(`UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE user_id = ?`, [user.id]));
    await refusedLink(user, link, 410, /has expired/);
    const before = await stateOf(user);
    const res = await agent.request(form.action, { form: { ...form.fields, password: newPassword, confirm: newPassword } });
    expect(res.status).toBe(410);
    expect(await stateOf(user)).toEqual(before);
  });

  test('reused link: 410, the first new password stays', async () => {
    const user = await person();
    const link = await resetLink(user.email);
    const agent = new FormAgent();
    const form = readForm((await agent.request(link)).html, link);
    expect((await agent.request(form.action, { form: { ...form.fields, password: newPassword, confirm: newPassword } })).status).toBe(200);
    await refusedLink(user, link, 410, /used already/);
    const before = await stateOf(user);
    const res = await agent.request(form.action, { form: { ...form.fields, password: 'a third password, long enough', confirm: 'a third password, long enough' } });
    expect(res.status).toBe(410);
    expect(await stateOf(user)).toEqual(before);
    const [row] = await t.db.withoutOrg((em) => em.execute<{ password_hash: string }[]>('SELECT password_hash FROM users WHERE id = ?', [user.id]));
    expect(await verifyPassword(newPassword, row!.password_hash)).toBe(true);
  });

  test('unknown link: 400', async () => {
    const user = await person();
    await resetLink(user.email);
    await refusedLink(user, `${t.url}/password-reset/${'A'.repeat(43)}`, 400, /not valid/);
  });

  test('malformed link: 400', async () => {
    const user = await person();
    await resetLink(user.email);
    for (const token of ['short', `${'A'.repeat(43)}=`, '%00%27%22<script>', 'A'.repeat(500)]) {
      await refusedLink(user, `${t.url}/password-reset/${token}`, 400, /not valid/);
    }
  });

  test('two submissions of one link at once: exactly one wins', async () => {
    const user = await person();
    const link = await resetLink(user.email);
    const agent = new FormAgent();
    const form = readForm((await agent.request(link)).html, link);
    const passwords = ['first racing password!!', 'second racing password!'];
    const answers = await Promise.all(passwords.map((p) => agent.request(form.action, { form: { ...form.fields, password: p, confirm: p } })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 410]);
    const winner = passwords[answers.findIndex((a) => a.status === 200)]!;
    const [row] = await t.db.withoutOrg((em) => em.execute<{ password_hash: string }[]>('SELECT password_hash FROM users WHERE id = ?', [user.id]));
    expect(await verifyPassword(winner, row!.password_hash)).toBe(true);
  });
});

describe('a bad new-password form changes nothing and keeps the link usable', () => {
  async function refusedForm(fields: Record<string, string>, status: number, message: string) {
    const user = await person();
    const link = await resetLink(user.email);
    const before = await stateOf(user);
    const res = await choose(link, fields);
    expect(res.status).toBe(status);
    expect(res.html).toContain(message);
    expect(await stateOf(user)).toEqual(before);
    // The link still works afterwards.
    expect((await choose(link, { password: newPassword, confirm: newPassword })).status).toBe(200);
  }

  test('mismatched confirmation: 400', () => refusedForm({ password: newPassword, confirm: `${newPassword}!` }, 400, 'The two passwords are not the same.'));

  test('too short: 400', () => refusedForm({ password: 'short pw', confirm: 'short pw' }, 400, 'at least 12 characters'));

  test('missing CSRF field: 403', () => refusedForm({ csrf: '', password: newPassword, confirm: newPassword }, 403, 'This form has expired'));

  test('the CSRF field of another link: 403', async () => {
    const other = await person();
    const otherLink = await resetLink(other.email);
    const otherCsrf = readForm((await new FormAgent().request(otherLink)).html, otherLink).fields.csrf!;
    await refusedForm({ csrf: otherCsrf, password: newPassword, confirm: newPassword }, 403, 'This form has expired');
  });
});
