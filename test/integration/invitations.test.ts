import { client, startApp, type Reply, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';
import { maxFailedAttempts } from '../../src/modules/invitations/invitation-accept.service.ts';
import { RolesRepository } from '../../src/modules/roles/roles.repository.ts';
import { hashPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';

let t: TestApp;
let org: TestOrg;
const anon = () => client(t.url);
const password = 'correct horse battery';

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

const invitationsPath = (o: TestOrg = org) => `/api/v1/orgs/${o.orgId}/invitations`;
const tokenOf = (res: Reply) => (res.body.acceptUrl as string).split('/invitations/')[1]!;
const accept = (token: string, body?: object) => anon()('POST', `/api/v1/invitations/${token}/accept`, body ?? {});

async function invite(emailAddress = uniqueEmail('invitee'), role = 'member', o: TestOrg = org): Promise<{ res: Reply; token: string; email: string }> {
  const res = await o.owner.api('POST', invitationsPath(o), { email: emailAddress, role });
  expect(res.status).toBe(201);
  return { res, token: tokenOf(res), email: emailAddress };
}

/** Everything a rejected request must leave as it was: the org's rows, users and queued mail. */
async function stateOf(orgId: string, emailAddress: string) {
  const inOrg = await t.db.inOrg(orgId, async (em) => ({
    invitations: await em.execute('SELECT id, email, role, status, token_hash, expires_at, accepted_by, failed_attempts FROM invitations ORDER BY id'),
    members: await em.execute('SELECT user_id, role, source FROM memberships ORDER BY id'),
    audit: await em.execute('SELECT count(*)::int AS n FROM audit_events'),
  }));
  const users = await t.db.withoutOrg((em) => em.execute('SELECT id, password_hash, name FROM users WHERE email = ?', [emailAddress.toLowerCase()]));
  const mail = await t.db.asPlatform((em) => em.execute('SELECT count(*)::int AS n FROM outbox_messages WHERE recipient = ?', [emailAddress.toLowerCase()]));
  return { ...inOrg, users, mail };
}

async function expectRejected(res: Reply, status: number, code: string, before: unknown, orgId: string, emailAddress: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(res.body.code).toBe(code);
  expect(await stateOf(orgId, emailAddress)).toEqual(before);
}

async function auditOf(orgId: string, targetId: string): Promise<{ type: string; before: unknown; after: unknown }[]> {
  return t.db.inOrg(orgId, (em) => em.execute('SELECT type, before, after FROM audit_events WHERE target_id = ? ORDER BY seq', [targetId]));
}

/** `state` with one invitation's failed-attempt count set to `n`: the one change a wrong password makes. */
function withFailedAttempts<S extends { invitations: unknown }>(state: S, invitationId: string, n: number): S {
  const invitations = (state.invitations as Array<Record<string, unknown>>).map((i) => (i.id === invitationId ? { ...i, failed_attempts: n } : i));
  return { ...state, invitations };
}

async function existingUser(withPassword: boolean): Promise<{ id: string; email: string }> {
  const passwordHash = withPassword ? await hashPassword(password) : null;
  const user = await t.db.withoutOrg((em) => new UsersRepository(em).create({ email: uniqueEmail('existing'), name: 'Existing', passwordHash }));
  return { id: user.id, email: user.email };
}

describe('invite and accept', () => {
  test('a new person accepts, gets an account, and shows up in the members list', async () => {
    const { res, token, email } = await invite(undefined, 'admin');
    expect(res.body).toMatchObject({ email, role: 'admin', status: 'pending', invitedBy: org.owner.userId, acceptedBy: null });
    expect(res.body.acceptUrl).toBe(`${t.config.publicUrl}/invitations/${token}`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expiresIn = Date.parse(res.body.expiresAt) - Date.now();
    expect(Math.abs(expiresIn - t.config.invitationTtlHours * 3_600_000)).toBeLessThan(60_000);

    const joined = await accept(token, { password, name: 'New Person' });
    expect(joined.status).toBe(200);
    expect(joined.body).toEqual({ orgId: org.orgId, userId: expect.any(String), role: 'admin' });

    const members = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/members?limit=200`);
    expect(members.body.data).toContainEqual(expect.objectContaining({ userId: joined.body.userId, email, name: 'New Person', role: 'admin', source: 'invite' }));
    const list = await org.owner.api('GET', `${invitationsPath()}?status=accepted&limit=200`);
    const listed = list.body.data.find((i: { id: string }) => i.id === res.body.id);
    expect(listed).toMatchObject({ status: 'accepted', acceptedBy: joined.body.userId });
    expect(listed.acceptUrl).toBeUndefined();

    expect((await auditOf(org.orgId, res.body.id)).map((e) => e.type)).toEqual(['member.invited', 'invitation.accepted']);
    expect((await auditOf(org.orgId, joined.body.userId)).map((e) => e.type)).toEqual(['member.joined']);
    // Secrets never reach the audit trail.
    const trail = JSON.stringify(await t.db.inOrg(org.orgId, (em) => em.execute('SELECT * FROM audit_events')));
    const [stored] = await t.db.inOrg(org.orgId, (em) => em.execute<{ token_hash: string }[]>('SELECT token_hash FROM invitations WHERE id = ?', [res.body.id]));
    expect(trail).not.toContain(token);
    expect(trail).not.toContain(stored!.token_hash);
  });

  test('an existing user with a password joins after proving it', async () => {
    const user = await existingUser(true);
    const { token } = await invite(user.email.toUpperCase(), 'viewer');
    const joined = await accept(token, { password });
    expect(joined.status).toBe(200);
    expect(joined.body).toEqual({ orgId: org.orgId, userId: user.id, role: 'viewer' });
  });

});

describe('accept rejections', () => {
  test('an unknown token is 404 and changes nothing', async () => {
    const { email } = await invite();
    const before = await stateOf(org.orgId, email);
    await expectRejected(await accept('A'.repeat(43), { password }), 404, 'invitation.not_found', before, org.orgId, email);
  });

  test('a token not shaped like ours is 404 and changes nothing', async () => {
    const { email } = await invite();
    const before = await stateOf(org.orgId, email);
    await expectRejected(await accept('not-a-token', { password }), 404, 'invitation.not_found', before, org.orgId, email);
  });

  test('an expired token is 410 and changes nothing', async () => {
    const { res, token, email } = await invite();
    await t.db.inOrg(org.orgId, (em) => em.execute(`UPDATE invitations SET expires_at = now() - interval '1 hour' WHERE id = ?`, [res.body.id]));
    const before = await stateOf(org.orgId, email);
    await expectRejected(await accept(token, { password }), 410, 'invitation.expired', before, org.orgId, email);
    const list = await org.owner.api('GET', `${invitationsPath()}?status=expired&limit=200`);
    expect(list.body.data.map((i: { id: string }) => i.id)).toContain(res.body.id);
  });

  test('a reused token is 409 and changes nothing', async () => {
    const { token, email } = await invite();
    expect((await accept(token, { password })).status).toBe(200);
    const before = await stateOf(org.orgId, email);
    await expectRejected(await accept(token, { password }), 409, 'invitation.already_accepted', before, org.orgId, email);
  });

  test('a cancelled token is 410 and changes nothing', async () => {
    const { res, token, email } = await invite();
    expect((await org.owner.api('DELETE', `${invitationsPath()}/${res.body.id}`)).status).toBe(200);
    const before = await stateOf(org.orgId, email);
    await expectRejected(await accept(token, { password }), 410, 'invitation.cancelled', before, org.orgId, email);
  });

  test('a new person without a password is 400 and changes nothing', async () => {
    const { token, email } = await invite();
    const before = await stateOf(org.orgId, email);
    await expectRejected(await accept(token), 400, 'request.invalid', before, org.orgId, email);
  });

  test('a new person with a short password is 400 and changes nothing', async () => {
    const { token, email } = await invite();
    const before = await stateOf(org.orgId, email);
    await expectRejected(await accept(token, { password: 'short' }), 400, 'request.invalid', before, org.orgId, email);
  });

  test('the wrong password for an existing user is 401 and changes nothing but the attempt count', async () => {
    const user = await existingUser(true);
    const { res, token } = await invite(user.email);
    const before = await stateOf(org.orgId, user.email);
    const wrong = await accept(token, { password: 'not the right password' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('auth.unauthenticated');
    const counted = withFailedAttempts(before, res.body.id, 1);
    expect(await stateOf(org.orgId, user.email)).toEqual(counted);
    // No password at all is refused without counting a guess.
    await expectRejected(await accept(token), 401, 'auth.unauthenticated', counted, org.orgId, user.email);
  });

  test('an existing user without a password (SSO only) is 409 sign_in_required and changes nothing', async () => {
    const user = await existingUser(false);
    const { token } = await invite(user.email);
    const before = await stateOf(org.orgId, user.email);
    // The token proves control of the mailbox at best (the inviter saw the link too), not of the account.
    const res = await accept(token);
    await expectRejected(res, 409, 'invitation.sign_in_required', before, org.orgId, user.email);
    expect(res.body.detail).toMatch(/signing in/);
    // Nor can a token holder give the account a password this way.
    await expectRejected(await accept(token, { password }), 409, 'invitation.sign_in_required', before, org.orgId, user.email);
  });

  test('a disabled account is 403 user.disabled, even with its password, and changes nothing', async () => {
    const user = await existingUser(true);
    await t.db.withoutOrg((em) => new UsersRepository(em).setDisabled(user.id, new Date()));
    const { token } = await invite(user.email);
    const before = await stateOf(org.orgId, user.email);
    await expectRejected(await accept(token, { password }), 403, 'user.disabled', before, org.orgId, user.email);
  });

  test('an invitee who became a member meanwhile is 409 and changes nothing', async () => {
    const user = await existingUser(true);
    const { token } = await invite(user.email);
    await t.db.inOrg(org.orgId, (em) => em.execute(`INSERT INTO memberships (id, org_id, user_id, role, source) VALUES (gen_random_uuid(), ?, ?, 'viewer', 'sso')`, [org.orgId, user.id]));
    const before = await stateOf(org.orgId, user.email);
    await expectRejected(await accept(token, { password }), 409, 'member.exists', before, org.orgId, user.email);
  });

  test('unknown fields in the accept body are 400 and change nothing', async () => {
    const { token, email } = await invite();
    const before = await stateOf(org.orgId, email);
    await expectRejected(await accept(token, { password, role: 'owner' }), 400, 'request.invalid', before, org.orgId, email);
  });
});

describe('password guessing on accept', () => {
  const wrong = { password: 'not the right password' };

  async function guessWrong(token: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      const res = await accept(token, wrong);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('auth.unauthenticated');
    }
  }

  test('four wrong passwords, then the right one joins', async () => {
    const user = await existingUser(true);
    const { res, token } = await invite(user.email);
    const before = await stateOf(org.orgId, user.email);
    await guessWrong(token, maxFailedAttempts - 1);
    // Each wrong password was counted although its request failed, and nothing else changed.
    expect(await stateOf(org.orgId, user.email)).toEqual(withFailedAttempts(before, res.body.id, maxFailedAttempts - 1));
    const joined = await accept(token, { password });
    expect(joined.status).toBe(200);
    expect(joined.body).toEqual({ orgId: org.orgId, userId: user.id, role: 'member' });
    expect((await auditOf(org.orgId, res.body.id)).map((e) => e.type)).toEqual(['member.invited', 'invitation.accepted']);
  });

  test('five wrong passwords retire the invitation: the right one is then 410 and creates no membership', async () => {
    const user = await existingUser(true);
    const { res, token } = await invite(user.email);
    const before = await stateOf(org.orgId, user.email);
    await guessWrong(token, maxFailedAttempts);

    const locked = await stateOf(org.orgId, user.email);
    const [invitation] = (locked.invitations as Array<Record<string, unknown>>).filter((i) => i.id === res.body.id);
    expect(invitation).toMatchObject({ status: 'cancelled', failed_attempts: maxFailedAttempts, accepted_by: null });
    expect(locked.members).toEqual(before.members);
    expect(locked.users).toEqual(before.users);
    expect(locked.mail).toEqual(before.mail);
    const trail = await auditOf(org.orgId, res.body.id);
    expect(trail.map((e) => e.type)).toEqual(['member.invited', 'invitation.locked']);
    expect(trail[1]).toMatchObject({
      before: { status: 'pending', failedAttempts: maxFailedAttempts - 1 },
      after: { status: 'cancelled', failedAttempts: maxFailedAttempts },
    });

    await expectRejected(await accept(token, { password }), 410, 'invitation.cancelled', locked, org.orgId, user.email);
    await expectRejected(await accept(token, wrong), 410, 'invitation.cancelled', locked, org.orgId, user.email);
    const members = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/members?limit=200`);
    expect(members.body.data.map((m: { userId: string }) => m.userId)).not.toContain(user.id);
  });

  test('concurrent wrong passwords are counted one by one: no more than five are tried', async () => {
    const user = await existingUser(true);
    const { res, token } = await invite(user.email);
    const answers = await Promise.all(Array.from({ length: 12 }, () => accept(token, wrong)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([...Array(maxFailedAttempts).fill(401), ...Array(12 - maxFailedAttempts).fill(410)]);
    const { invitations } = await stateOf(org.orgId, user.email);
    expect((invitations as Array<Record<string, unknown>>).find((i) => i.id === res.body.id)).toMatchObject({ status: 'cancelled', failed_attempts: maxFailedAttempts });
    expect((await auditOf(org.orgId, res.body.id)).map((e) => e.type)).toEqual(['member.invited', 'invitation.locked']);
  });
});

describe('invite rejections', () => {
  test('an invalid email is 400 and changes nothing', async () => {
    const before = await stateOf(org.orgId, 'not-an-email');
    const res = await org.owner.api('POST', invitationsPath(), { email: 'not-an-email', role: 'member' });
    await expectRejected(res, 400, 'request.invalid', before, org.orgId, 'not-an-email');
    expect(res.body.errors).toContainEqual(expect.objectContaining({ field: 'body.email' }));
  });

  test('an unknown role is 400 and changes nothing', async () => {
    const email = uniqueEmail();
    const before = await stateOf(org.orgId, email);
    const res = await org.owner.api('POST', invitationsPath(), { email, role: 'wizard' });
    await expectRejected(res, 400, 'request.invalid', before, org.orgId, email);
    expect(res.body.errors).toContainEqual(expect.objectContaining({ field: 'body.role' }));
  });

  test('the owner role is 409 and changes nothing', async () => {
    const email = uniqueEmail();
    const before = await stateOf(org.orgId, email);
    await expectRejected(await org.owner.api('POST', invitationsPath(), { email, role: 'owner' }), 409, 'member.owner_by_transfer', before, org.orgId, email);
  });

  test('a second pending invitation for one email is 409 and changes nothing', async () => {
    const { email } = await invite();
    const before = await stateOf(org.orgId, email);
    const again = await org.owner.api('POST', invitationsPath(), { email: email.toUpperCase(), role: 'viewer' });
    await expectRejected(again, 409, 'invitation.exists', before, org.orgId, email);
  });

  test('inviting a member is 409 and changes nothing', async () => {
    const member = await addMember(t, org.orgId, 'member');
    const before = await stateOf(org.orgId, member.email);
    await expectRejected(await org.owner.api('POST', invitationsPath(), { email: member.email, role: 'admin' }), 409, 'member.exists', before, org.orgId, member.email);
  });

  test.each(['viewer', 'member'])('a %s (no members:invite) is 403 and changes nothing', async (role) => {
    const caller = await addMember(t, org.orgId, role);
    const email = uniqueEmail();
    const before = await stateOf(org.orgId, email);
    await expectRejected(await caller.api('POST', invitationsPath(), { email, role: 'viewer' }), 403, 'auth.forbidden', before, org.orgId, email);
    expect((await caller.api('GET', invitationsPath())).status).toBe(403);
  });

  test('inviting with a role above the caller is 403 and changes nothing', async () => {
    await t.db.inOrg(org.orgId, (em) => new RolesRepository(em).create({
      orgId: org.orgId, key: 'recruiter', name: 'Recruiter', description: null, permissions: ['org:read', 'members:read', 'members:invite'],
    }));
    const recruiter = await addMember(t, org.orgId, 'recruiter');
    const email = uniqueEmail();
    const before = await stateOf(org.orgId, email);
    await expectRejected(await recruiter.api('POST', invitationsPath(), { email, role: 'admin' }), 403, 'role.above_caller', before, org.orgId, email);
    expect((await recruiter.api('POST', invitationsPath(), { email, role: 'recruiter' })).status).toBe(201);
  });

  test('another org\'s credential sees none of this org\'s invitations (404)', async () => {
    const other = await createOrg(t);
    const { res, email } = await invite();
    const before = await stateOf(org.orgId, email);
    expect((await other.owner.api('GET', invitationsPath())).status).toBe(404);
    await expectRejected(await other.owner.api('DELETE', `${invitationsPath()}/${res.body.id}`), 404, 'org.not_found', before, org.orgId, email);
    await expectRejected(await other.owner.api('DELETE', `${invitationsPath(other)}/${res.body.id}`), 404, 'invitation.not_found', before, org.orgId, email);
    await expectRejected(await other.owner.api('POST', `${invitationsPath(other)}/${res.body.id}/resend`), 404, 'invitation.not_found', before, org.orgId, email);
  });
});

describe('list, cancel, resend', () => {
  test('lists page by page and filters by status', async () => {
    const own = await createOrg(t);
    const made = [await invite(undefined, 'member', own), await invite(undefined, 'viewer', own), await invite(undefined, 'admin', own)];
    const first = await own.owner.api('GET', `${invitationsPath(own)}?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.data.map((i: { id: string }) => i.id)).toEqual([made[0]!.res.body.id, made[1]!.res.body.id]);
    const second = await own.owner.api('GET', `${invitationsPath(own)}?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: made[2]!.res.body.id })], nextCursor: null });

    await own.owner.api('DELETE', `${invitationsPath(own)}/${made[1]!.res.body.id}`);
    const pending = await own.owner.api('GET', `${invitationsPath(own)}?status=pending`);
    expect(pending.body.data.map((i: { id: string }) => i.id)).toEqual([made[0]!.res.body.id, made[2]!.res.body.id]);
    const cancelled = await own.owner.api('GET', `${invitationsPath(own)}?status=cancelled`);
    expect(cancelled.body.data.map((i: { id: string }) => i.id)).toEqual([made[1]!.res.body.id]);
    expect((await own.owner.api('GET', `${invitationsPath(own)}?status=bogus`)).status).toBe(400);
  });

  test('cancel marks the invitation cancelled, audits it, and is idempotent', async () => {
    const { res, email } = await invite();
    const cancelled = await org.owner.api('DELETE', `${invitationsPath()}/${res.body.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: res.body.id, status: 'cancelled' });
    expect(cancelled.body.acceptUrl).toBeUndefined();
    const before = await stateOf(org.orgId, email);
    const again = await org.owner.api('DELETE', `${invitationsPath()}/${res.body.id}`);
    expect(again.status).toBe(200);
    expect(await stateOf(org.orgId, email)).toEqual(before);
    expect((await auditOf(org.orgId, res.body.id)).map((e) => e.type)).toEqual(['member.invited', 'invitation.cancelled']);
    // The email is free again.
    await invite(email);
  });

  test('cancelling an accepted invitation is 409 and changes nothing', async () => {
    const { res, token, email } = await invite();
    expect((await accept(token, { password })).status).toBe(200);
    const before = await stateOf(org.orgId, email);
    await expectRejected(await org.owner.api('DELETE', `${invitationsPath()}/${res.body.id}`), 409, 'invitation.not_pending', before, org.orgId, email);
  });

  test('an unknown invitation id is 404 and changes nothing', async () => {
    const { email } = await invite();
    const before = await stateOf(org.orgId, email);
    const id = '0190a6e0-0000-7000-8000-000000000000';
    await expectRejected(await org.owner.api('DELETE', `${invitationsPath()}/${id}`), 404, 'invitation.not_found', before, org.orgId, email);
    await expectRejected(await org.owner.api('POST', `${invitationsPath()}/${id}/resend`), 404, 'invitation.not_found', before, org.orgId, email);
  });

  test('resend issues a new link and expiry, mails it, and retires the old link', async () => {
    const { res, token, email } = await invite();
    await t.db.inOrg(org.orgId, (em) => em.execute(`UPDATE invitations SET expires_at = now() - interval '1 hour' WHERE id = ?`, [res.body.id]));
    const resent = await org.owner.api('POST', `${invitationsPath()}/${res.body.id}/resend`);
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ id: res.body.id, status: 'pending' });
    const newToken = tokenOf(resent);
    expect(newToken).not.toBe(token);
    expect(Date.parse(resent.body.expiresAt)).toBeGreaterThan(Date.now() + 3_600_000);
    expect((await stateOf(org.orgId, email)).mail).toEqual([{ n: 2 }]);
    expect((await auditOf(org.orgId, res.body.id)).map((e) => e.type)).toEqual(['member.invited', 'invitation.resent']);

    expect((await accept(token, { password })).status).toBe(404);
    const joined = await accept(newToken, { password });
    expect(joined.status).toBe(200);
  });

  test('resending a cancelled invitation is 409 and changes nothing', async () => {
    const { res, email } = await invite();
    await org.owner.api('DELETE', `${invitationsPath()}/${res.body.id}`);
    const before = await stateOf(org.orgId, email);
    await expectRejected(await org.owner.api('POST', `${invitationsPath()}/${res.body.id}/resend`), 409, 'invitation.not_pending', before, org.orgId, email);
  });

  test('a lapsed pending invitation does not block a new one for the same email', async () => {
    const { res, email } = await invite();
    await t.db.inOrg(org.orgId, (em) => em.execute(`UPDATE invitations SET expires_at = now() - interval '1 hour' WHERE id = ?`, [res.body.id]));
    const fresh = await invite(email);
    expect(fresh.res.body.id).not.toBe(res.body.id);
    const old = await auditOf(org.orgId, res.body.id);
    expect(old.map((e) => e.type)).toEqual(['member.invited', 'invitation.expired']);
  });
});
