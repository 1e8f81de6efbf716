import { signUp } from '../../src/modules/users/signup.service.ts';
import { verifyPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { uniqueEmail } from '../helpers/factories.ts';

const meta = { ip: null, userAgent: null, requestId: null };
let withOrgs: TestApp;
let withoutOrgs: TestApp;

beforeAll(async () => {
  withOrgs = await startApp({ GATEHOUSE_PERSONAL_ORGS: 'true' });
  withoutOrgs = await startApp();
});
afterAll(async () => {
  await withOrgs.close();
  await withoutOrgs.close();
});

test('a self sign-up gets a personal org it owns when config enables it', async () => {
  const result = await signUp(withOrgs.db, withOrgs.config, { email: uniqueEmail(), password: 'a long enough password', name: 'Ada' }, meta);
  expect(result.personalOrg).toMatchObject({ kind: 'personal', name: "Ada's workspace" });
  const [m] = await withOrgs.db.inOrg(result.personalOrg!.id, (em) => em.execute<{ user_id: string; role: string; source: string }[]>(
    'SELECT user_id, role, source FROM memberships'));
  expect(m).toEqual({ user_id: result.userId, role: 'owner', source: 'signup' });
});

test('no personal org when config leaves it off (the default)', async () => {
  const result = await signUp(withoutOrgs.db, withoutOrgs.config, { email: uniqueEmail(), password: 'a long enough password', name: null }, meta);
  expect(result.personalOrg).toBeNull();
});

test('emails are unique case-insensitively and passwords are stored as scrypt hashes', async () => {
  const email = uniqueEmail('Case');
  const { userId } = await signUp(withoutOrgs.db, withoutOrgs.config, { email: email.toUpperCase(), password: 'a long enough password', name: null }, meta);
  await expect(signUp(withoutOrgs.db, withoutOrgs.config, { email, password: 'another long password', name: null }, meta))
    .rejects.toMatchObject({ status: 409, code: 'user.exists' });
  const user = await withoutOrgs.db.withoutOrg((em) => new UsersRepository(em).findById(userId));
  expect(user!.email).toBe(email.toLowerCase());
  expect(user!.passwordHash).toMatch(/^scrypt\$/);
  expect(await verifyPassword('a long enough password', user!.passwordHash!)).toBe(true);
  expect(await verifyPassword('wrong password!!', user!.passwordHash!)).toBe(false);
});
