import { createOrganization } from '../../src/modules/orgs/orgs.service.ts';
import { hashPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { client, type TestApp } from './app.ts';
import { keyFor, uniqueEmail, type TestOrg } from './factories.ts';
import { testPassword } from './sign-in.ts';

const meta = { ip: null, userAgent: 'test factory', requestId: null };

/** An org whose owner can sign in to the console (email + testPassword), with the owner's API key. */
export async function createOrgWithOwner(t: TestApp, name: string): Promise<TestOrg> {
  const email = uniqueEmail('owner');
  const user = await t.db.withoutOrg(async (em) => new UsersRepository(em).create({ email, name: 'Olive Owner', passwordHash: await hashPassword(testPassword) }));
  const { org } = await createOrganization(t.db, { name, owner: { userId: user.id, source: 'bootstrap' }, principal: null, meta });
  const key = await keyFor(t, org.id, user.id, 'owner');
  return { orgId: org.id, slug: org.slug, owner: { userId: user.id, email, key, api: client(t.url, key) } };
}
