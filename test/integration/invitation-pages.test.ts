import { maxFailedAttempts } from '../../src/modules/invitations/invitation-accept.service.ts';
import { hashPassword, verifyPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { FormAgent, readForm } from '../helpers/browser.ts';
import { createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';

// The invitation link an invitee is mailed, served as hosted pages and driven as a browser would.
const orgName = 'Acme <b>& Co</b>';
const password = 'a password for the invitee';
let t: TestApp;
let org: TestOrg;

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t, orgName);
});
afterAll(() => t.close());

/** Invites through the management API; returns the link's path and the email. */
async function invite(email = uniqueEmail('invitee'), role = 'member'): Promise<{ path: string; email: string; id: string }> {
  const res = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email, role });
  expect(res.status).toBe(201);
  return { path: `/invitations/${(res.body.acceptUrl as string).split('/invitations/')[1]}`, email, id: res.body.id };
}

async function existingUser(withPassword = true): Promise<{ id: string; email: string }> {
  const passwordHash = withPassword ? await hashPassword(password) : null;
  const user = await t.db.withoutOrg((em) => new UsersRepository(em).create({ email: uniqueEmail('existing'), name: 'Existing', passwordHash }));
  return { id: user.id, email: user.email };
}

/** Everything a refused page must leave as it was: the org's invitations and members, the email's account. */
async function stateOf(email: string) {
  const inOrg = await t.db.inOrg(org.orgId, async (em) => ({
    invitations: await em.execute('SELECT id, status, token_hash, expires_at, accepted_by, failed_attempts FROM invitations ORDER BY id'),
    members: await em.execute('SELECT user_id, role FROM memberships ORDER BY id'),
    audit: await em.execute('SELECT count(*)::int AS n FROM audit_events'),
  }));
  const users = await t.db.withoutOrg((em) => em.execute('SELECT id, name, password_hash, updated_at FROM users WHERE email = ?', [email.toLowerCase()]));
  return { ...inOrg, users };
}

/** Opens the link and posts its form with `fields`. */
async function submit(path: string, fields: Record<string, string>, agent = new FormAgent()) {
  const page = await agent.request(`${t.url}${path}`);
  expect(page.status).toBe(200);
  const form = readForm(page.html, page.url);
  return agent.request(form.action, { form: { ...form.fields, ...fields } });
}

async function memberRole(userId: string): Promise<string | undefined> {
  const rows = await t.db.inOrg(org.orgId, (em) => em.execute<{ role: string }[]>('SELECT role FROM memberships WHERE user_id = ?', [userId]));
  return rows[0]?.role;
}

describe('accepting', () => {
  test('a new person sees the org, role and email, creates an account and joins', async () => {
    const { path, email } = await invite(undefined, 'admin');
    const page = await new FormAgent().request(`${t.url}${path}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Acme &#60;b&#62;&#38; Co&#60;/b&#62;');
    expect(page.html).not.toContain('<b>&');
    expect(page.html).toContain('<strong>admin</strong>');
    expect(page.html).toContain(email);
    expect(page.html).toContain('Create my account and join');
    // The token is in the URL: it must not leave in a Referer header.
    expect((await fetch(`${t.url}${path}`)).headers.get('referrer-policy')).toBe('no-referrer');

    const done = await submit(path, { name: 'New Invitee', password, confirm: password });
    expect(done.status).toBe(200);
    expect(done.html).toContain('You have joined Acme &#60;b&#62;');
    expect(done.html).toContain(`<a href="${t.config.publicUrl}">Continue to the application</a>`);
    const user = await t.db.withoutOrg((em) => new UsersRepository(em).findByEmail(email));
    expect(user).toMatchObject({ name: 'New Invitee' });
    expect(await verifyPassword(password, user!.passwordHash!)).toBe(true);
    expect(await memberRole(user!.id)).toBe('admin');

    // The link is spent: its page says so.
    const again = await new FormAgent().request(`${t.url}${path}`);
    expect(again.status).toBe(410);
    expect(again.html).toContain('already been accepted');
  });

  test('an existing account joins with its password, which stays as it was', async () => {
    const user = await existingUser();
    const { path } = await invite(user.email);
    const page = await new FormAgent().request(`${t.url}${path}`);
    expect(page.html).toContain('This email already has an account');
    expect(page.html).not.toContain('name="confirm"');
    const before = await t.db.withoutOrg((em) => em.execute('SELECT password_hash FROM users WHERE id = ?', [user.id]));
    const done = await submit(path, { password });
    expect(done.status).toBe(200);
    expect(done.html).toContain('You have joined');
    expect(await memberRole(user.id)).toBe('member');
    expect(await t.db.withoutOrg((em) => em.execute('SELECT password_hash FROM users WHERE id = ?', [user.id]))).toEqual(before);
  });
});

describe('refusals change nothing', () => {
  async function refused(email: string, request: () => Promise<{ status: number; html: string }>, status: number, message: RegExp) {
    const before = await stateOf(email);
    const res = await request();
    expect(res.status).toBe(status);
    expect(res.html).toMatch(message);
    expect(await stateOf(email)).toEqual(before);
    return res;
  }

  test('invitation for another email\'s account, wrong password: 401 and the form again; only the attempt is counted, and the limit retires it', async () => {
    const user = await existingUser();
    const { path, id } = await invite(user.email);
    const agent = new FormAgent();
    for (let attempt = 1; attempt <= maxFailedAttempts; attempt += 1) {
      const before = await stateOf(user.email);
      const res = await submit(path, { password: 'not the password at all' }, agent);
      expect(res.status).toBe(401);
      expect(res.html).toContain('That password does not match the account of this email.');
      const after = await stateOf(user.email);
      // The one change: the invitation's failed-attempt count (and, at the limit, its retirement and audit event).
      const counted = (after.invitations as Array<Record<string, unknown>>).find((i) => i.id === id)!;
      expect(counted.failed_attempts).toBe(attempt);
      expect({ ...after, invitations: before.invitations, audit: before.audit }).toEqual(before);
      expect(await memberRole(user.id)).toBeUndefined();
    }
    await refused(user.email, () => new FormAgent().request(`${t.url}${path}`), 410, /cancelled/);
  });

  test('expired invitation: 410 on the page and on a form opened before', async () => {
    const { path, email, id } = await invite();
    const agent = new FormAgent();
    const form = readForm((await agent.request(`${t.url}${path}`)).html, `${t.url}${path}`);
    await t.db.inOrg(org.orgId, (em) => em.execute(`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = ?`, [id]));
    await refused(email, () => new FormAgent().request(`${t.url}${path}`), 410, /has expired/);
    await refused(email, () => agent.request(form.action, { form: { ...form.fields, password, confirm: password } }), 410, /has expired/);
  });

  test('cancelled invitation: 410', async () => {
    const { path, email, id } = await invite();
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/invitations/${id}`)).status).toBe(200);
    await refused(email, () => new FormAgent().request(`${t.url}${path}`), 410, /was cancelled/);
  });

  test('unknown token: 404', async () => {
    await invite();
    await refused('nobody@example.test', () => new FormAgent().request(`${t.url}/invitations/${'Z'.repeat(43)}`), 404, /not valid/);
  });

  test('malformed token: 404', async () => {
    for (const token of ['short', `${'Z'.repeat(43)}=`, '%00%3Cscript%3E', 'Z'.repeat(400)]) {
      await refused('nobody@example.test', () => new FormAgent().request(`${t.url}/invitations/${token}`), 404, /not valid/);
    }
  });

  test('mismatched confirmation: 400, the link still works', async () => {
    const { path, email } = await invite();
    await refused(email, () => submit(path, { name: 'X', password, confirm: `${password}!` }), 400, /The two passwords are not the same/);
    expect((await submit(path, { password, confirm: password })).status).toBe(200);
  });

  test('too short a password: 400', async () => {
    const { path, email } = await invite();
    await refused(email, () => submit(path, { password: 'short', confirm: 'short' }), 400, /at least 12 characters/);
  });

  test('missing CSRF field: 403', async () => {
    const { path, email } = await invite();
    await refused(email, () => submit(path, { csrf: '', password, confirm: password }), 403, /This form has expired/);
  });

  test('the CSRF field of another invitation: 403', async () => {
    const other = await invite();
    const otherCsrf = readForm((await new FormAgent().request(`${t.url}${other.path}`)).html, t.url).fields.csrf!;
    const { path, email } = await invite();
    await refused(email, () => submit(path, { csrf: otherCsrf, password, confirm: password }), 403, /This form has expired/);
  });

  test('an account that signs in without a password: 409, with what to do instead', async () => {
    const user = await existingUser(false);
    const { path } = await invite(user.email);
    await refused(user.email, () => new FormAgent().request(`${t.url}${path}`), 409, /single sign-on/);
  });
});
