import type { Browser, Page } from 'playwright-core';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { checkPage, launchChromium, overflowsSideways, signInAs } from '../helpers/chromium.ts';
import { addMember, createOrg, uniqueEmail, type TestOrg } from '../helpers/factories.ts';
import { createMember, testPassword } from '../helpers/sign-in.ts';

// The console's people pages in a real browser: invitations (sent, accepted by a stranger in
// another browser, resent, cancelled), roles and their matrix, teams; a plain member is offered
// none of the changes.

let t: TestApp;
let browser: Browser;
let org: TestOrg;
let admin: { id: string; email: string };

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  browser = await launchChromium();
  org = await createOrg(t, `People ${Date.now()}`);
  admin = await createMember(t, [[org, 'admin']], 'admin');
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function signedIn(app: TestApp, email: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept()); // the confirmations of destructive forms
  await page.goto(`${app.url}/admin`);
  await signInAs(page, { email, password: testPassword });
  return page;
}

function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true });
}

const invitationsOf = async (status: string) =>
  (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/invitations?status=${status}&limit=200`)).body.data as { id: string; email: string }[];

describe('invitations', () => {
  test('an admin invites; the invitee accepts in a fresh browser with a new account and shows up as joined by invitation', async () => {
    const email = uniqueEmail('invitee');
    const page = await signedIn(t, admin.email);
    await nav(page, 'Invitations').click();
    await page.getByRole('heading', { level: 1, name: 'Invitations' }).waitFor();
    await checkPage(page, 'invitations');
    await page.getByLabel('Email', { exact: true }).fill(email);
    expect(await page.getByLabel('Role', { exact: true }).locator('option').allTextContents()).toEqual(['Admin', 'Member', 'Viewer']);
    await page.getByLabel('Role', { exact: true }).selectOption('member');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('heading', { level: 1, name: 'Invitation sent' }).waitFor();
    const link = await page.getByLabel('Invitation link').inputValue();
    expect(link).toMatch(new RegExp(`^${t.url}/invitations/`));
    await checkPage(page, 'invitation-sent');
    // Shown once: the list has the invitation, never its link.
    await page.getByRole('link', { name: 'Back to invitations' }).click();
    await page.getByRole('cell', { name: email, exact: true }).waitFor();
    expect(await page.content()).not.toContain(link.split('/invitations/')[1]);
    await checkPage(page, 'invitations-pending');

    const invitee = await (await browser.newContext()).newPage();
    await invitee.goto(link);
    await invitee.getByText('You are invited to join').waitFor();
    await checkPage(invitee, 'invitation-accept');
    await invitee.getByLabel('Your name').fill('Ines Invitee');
    await invitee.getByLabel('New password').fill(testPassword);
    await invitee.getByLabel('Repeat the password').fill(testPassword);
    await invitee.getByRole('button', { name: 'Create my account and join' }).click();
    await invitee.getByText('You have joined').waitFor();
    await checkPage(invitee, 'invitation-joined');
    await invitee.context().close();

    await nav(page, 'Members').click();
    const row = page.getByRole('row').filter({ hasText: email });
    await row.waitFor();
    expect(await row.textContent()).toContain('Invitation');
    expect(await row.textContent()).toContain('Ines Invitee');
    await checkPage(page, 'members-after-invitation');
    await page.context().close();
  });

  test('resend shows a new link once and retires the old one; cancel (confirmed) retires the invitation', async () => {
    const [first, second] = [uniqueEmail('resend'), uniqueEmail('cancel')];
    const old = (await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: first, role: 'viewer' })).body.acceptUrl as string;
    const cancelled = (await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: second, role: 'member' })).body.id as string;
    const page = await signedIn(t, admin.email);
    await page.goto(`${t.url}/admin/orgs/${org.orgId}/invitations`);
    expect(await page.getByRole('row').filter({ hasText: first }).textContent()).toContain(org.owner.email);
    await page.getByRole('button', { name: `Resend the invitation to ${first}` }).click();
    await page.getByRole('heading', { level: 1, name: 'Invitation sent again' }).waitFor();
    const renewed = await page.getByLabel('Invitation link').inputValue();
    expect(renewed).not.toBe(old);
    await checkPage(page, 'invitation-resent');
    expect((await fetch(old)).status).not.toBe(200);
    expect((await fetch(renewed)).status).toBe(200);

    await page.goto(`${t.url}/admin/orgs/${org.orgId}/invitations`);
    await page.getByRole('button', { name: `Cancel the invitation to ${second}` }).click();
    await page.getByRole('status').filter({ hasText: `The invitation to ${second} was cancelled` }).waitFor();
    expect(await page.getByRole('cell', { name: second, exact: true }).count()).toBe(0);
    expect((await invitationsOf('cancelled')).map((i) => i.id)).toContain(cancelled);
    await checkPage(page, 'invitation-cancelled');
    await page.context().close();
  });

  test('inviting someone who is already a member is refused on the form, with what was typed, and nothing is sent', async () => {
    const member = await addMember(t, org.orgId, 'member');
    const before = await invitationsOf('pending');
    const page = await signedIn(t, admin.email);
    await page.goto(`${t.url}/admin/orgs/${org.orgId}/invitations`);
    await page.getByLabel('Email', { exact: true }).fill(member.email);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('alert').filter({ hasText: 'already a member' }).waitFor();
    expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe(member.email);
    expect(await page.getByLabel('Invitation link').count()).toBe(0);
    expect(await invitationsOf('pending')).toEqual(before);
    await checkPage(page, 'invitation-refused');
    await page.context().close();
  });
  test('an inviter whose role cannot list roles types the key; a role above theirs is refused on the form and nothing is sent', async () => {
    for (const [key, permissions] of [['inviter', ['org:read', 'members:read', 'members:invite']], ['reader', ['org:read']]] as const) {
      expect((await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/roles`, { key, name: key, permissions })).status).toBe(201);
    }
    const inviter = await createMember(t, [[org, 'inviter']], 'inviter');
    const page = await signedIn(t, inviter.email);
    expect(await nav(page, 'Roles').count()).toBe(0);
    await nav(page, 'Invitations').click();
    const [above, fine] = [uniqueEmail('above'), uniqueEmail('reader')];
    await page.getByLabel('Email', { exact: true }).fill(above);
    await page.getByLabel('Role', { exact: true }).fill('admin');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('alert').filter({ hasText: 'That role holds permissions you do not.' }).waitFor();
    expect((await invitationsOf('pending')).map((i) => i.email)).not.toContain(above);
    await checkPage(page, 'invitation-above-caller');
    await page.getByLabel('Email', { exact: true }).fill(fine);
    await page.getByLabel('Role', { exact: true }).fill('reader');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('heading', { level: 1, name: 'Invitation sent' }).waitFor();
    expect((await invitationsOf('pending')).map((i) => i.email)).toContain(fine);
    await page.context().close();
  });
});

test('a member sees no Invitations nav item and no create controls; the invitations page refuses them', async () => {
  const member = await createMember(t, [[org, 'member']], 'plain');
  const page = await signedIn(t, member.email);
  expect(await nav(page, 'Invitations').count()).toBe(0);
  await nav(page, 'Roles').click();
  await page.getByRole('table', { name: /Permission matrix/ }).waitFor();
  expect(await page.getByRole('link', { name: 'Create a custom role' }).count()).toBe(0);
  await checkPage(page, 'roles-member');
  await nav(page, 'Teams').click();
  await page.getByRole('heading', { level: 1, name: 'Teams' }).waitFor();
  expect(await page.getByRole('button', { name: 'Create team' }).count()).toBe(0);
  await checkPage(page, 'teams-member');
  const res = await page.goto(`${t.url}/admin/orgs/${org.orgId}/invitations`);
  expect(res?.status()).toBe(403);
  expect(await page.getByRole('button', { name: 'Send invitation' }).count()).toBe(0);
  await checkPage(page, 'invitations-refused-member');
  await page.context().close();
});

describe('roles', () => {
  const matrixCell = async (page: Page, role: string, permission: string) => {
    const table = page.getByRole('table', { name: /Permission matrix/ });
    const column = (await table.locator('thead th').allTextContents()).findIndex((h) => h.startsWith(role));
    return table.locator('tbody tr').filter({ has: page.locator('th', { hasText: permission }) }).locator('td').nth(column - 1).textContent();
  };

  test('an admin creates a custom role with two permissions and sees it in the matrix; edits and deletes it', async () => {
    const page = await signedIn(t, admin.email);
    await nav(page, 'Roles').click();
    await page.getByRole('link', { name: 'Create a custom role' }).click();
    await checkPage(page, 'role-new');
    await page.getByLabel('Key', { exact: true }).fill('auditor');
    await page.getByLabel('Name', { exact: true }).fill('Auditor');
    await page.getByLabel('audit:read', { exact: true }).check();
    await page.getByLabel('members:read', { exact: true }).check();
    expect(await page.getByLabel('billing:manage', { exact: true }).count()).toBe(0); // the owner's alone
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('status').filter({ hasText: 'The role Auditor was created.' }).waitFor();
    expect(await matrixCell(page, 'Auditor', 'audit:read')).toContain('Yes');
    expect(await matrixCell(page, 'Auditor', 'members:read')).toContain('Yes');
    expect(await matrixCell(page, 'Auditor', 'teams:read')).toContain('No');
    await checkPage(page, 'roles-with-custom');
    const roles = (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/roles`)).body.data as { key: string; permissions: string[] }[];
    expect(roles.find((r) => r.key === 'auditor')?.permissions).toEqual(['members:read', 'audit:read']);

    await page.getByRole('link', { name: 'Auditor', exact: true }).click();
    await checkPage(page, 'role-edit');
    await page.getByLabel('members:read', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'The role Auditor was saved.' }).waitFor();
    expect(await matrixCell(page, 'Auditor', 'members:read')).toContain('No');
    await page.getByRole('link', { name: 'Auditor', exact: true }).click();
    await page.getByRole('button', { name: 'Delete role' }).click();
    await page.getByRole('status').filter({ hasText: 'The role auditor was deleted.' }).waitFor();
    const after = (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/roles`)).body.data as { key: string }[];
    expect(after.map((r) => r.key)).not.toContain('auditor');
    await page.context().close();
  });

  test('a malformed key is refused on the form with the field named, and no role is made', async () => {
    const rolesNow = async () => (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/roles`)).body.data;
    const before = await rolesNow();
    const page = await signedIn(t, admin.email);
    await page.goto(`${t.url}/admin/orgs/${org.orgId}/roles/new`);
    await page.getByLabel('Key', { exact: true }).fill('Bad Key!');
    await page.getByLabel('Name', { exact: true }).fill('Bad');
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('alert').filter({ hasText: 'key:' }).waitFor();
    expect(await page.getByLabel('Key', { exact: true }).inputValue()).toBe('Bad Key!');
    await checkPage(page, 'role-refused');
    expect(await rolesNow()).toEqual(before);
    await page.context().close();
  });

  test('a plan without custom roles: the form says so (402) and nothing is made', async () => {
    // The shipped starter plan has teams but no custom roles.
    const starter = await startAppAtPublicUrl({ GATEHOUSE_DEFAULT_PLAN: 'starter' });
    try {
      const freeOrg = await createOrg(starter);
      const owner = await createMember(starter, [[freeOrg, 'admin']], 'plan');
      const page = await signedIn(starter, owner.email);
      await page.goto(`${starter.url}/admin/orgs/${freeOrg.orgId}/roles/new`);
      await page.getByLabel('Key', { exact: true }).fill('auditor');
      await page.getByLabel('Name', { exact: true }).fill('Auditor');
      await page.getByRole('button', { name: 'Create role' }).click();
      await page.getByRole('alert').filter({ hasText: 'The Starter plan' }).waitFor();
      await checkPage(page, 'role-plan-refused');
      const roles = (await freeOrg.owner.api('GET', `/api/v1/orgs/${freeOrg.orgId}/roles`)).body.data as { key: string }[];
      expect(roles.map((r) => r.key)).toEqual(['owner', 'admin', 'member', 'viewer']);
      await page.context().close();
    } finally {
      await starter.close();
    }
  });

  test('at phone width the matrix scrolls inside its region, not the page', async () => {
    const page = await signedIn(t, admin.email, { width: 390, height: 844 });
    await page.goto(`${t.url}/admin/orgs/${org.orgId}/roles`);
    expect(await overflowsSideways(page)).toBe(false);
    await checkPage(page, 'roles-phone');
    await page.context().close();
  });
});

test('an admin creates a team, adds an org member, changes their team role, removes them, renames and deletes the team', async () => {
  const member = await addMember(t, org.orgId, 'viewer');
  const page = await signedIn(t, admin.email);
  await nav(page, 'Teams').click();
  await checkPage(page, 'teams');
  await page.getByLabel('Team name').fill('Platform');
  await page.getByRole('button', { name: 'Create team' }).click();
  await page.getByRole('heading', { level: 1, name: 'Team: Platform' }).waitFor();
  await page.getByLabel('Member of the organization').selectOption(member.userId);
  await page.getByLabel('Team role', { exact: true }).selectOption('admin');
  await page.getByRole('button', { name: 'Add to team' }).click();
  await page.getByRole('status').filter({ hasText: 'The member was added to the team.' }).waitFor();
  await checkPage(page, 'team');
  const teamId = page.url().split('/teams/')[1]!;
  const members = async () => (await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/teams/${teamId}/members`)).body.data as { userId: string; role: string }[];
  expect(await members()).toEqual([expect.objectContaining({ userId: member.userId, role: 'admin' })]);

  await page.getByLabel(`Team role of ${member.email}`, { exact: true }).selectOption('member');
  await page.getByRole('button', { name: `Change the team role of ${member.email}` }).click();
  await page.getByRole('status').filter({ hasText: 'The team role was changed.' }).waitFor();
  expect(await members()).toEqual([expect.objectContaining({ userId: member.userId, role: 'member' })]);
  await page.getByRole('button', { name: `Remove ${member.email} from the team` }).click();
  await page.getByRole('status').filter({ hasText: 'The member was removed from the team.' }).waitFor();
  expect(await members()).toEqual([]);
  await checkPage(page, 'team-empty');

  await page.getByLabel('Team name', { exact: true }).fill('Platform Core');
  await page.getByRole('button', { name: 'Save team' }).click();
  await page.getByRole('heading', { level: 1, name: 'Team: Platform Core' }).waitFor();
  await page.getByRole('button', { name: 'Delete team' }).click();
  await page.getByRole('status').filter({ hasText: 'The team was deleted' }).waitFor();
  expect((await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/teams/${teamId}`)).status).toBe(404);
  expect((await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/members?limit=200`)).body.data.map((m: { userId: string }) => m.userId)).toContain(member.userId);
  await page.context().close();
});
