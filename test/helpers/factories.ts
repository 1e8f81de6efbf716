import { randomUUID } from 'node:crypto';
import { ApiKeysService } from '../../src/modules/api-keys/api-keys.service.ts';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import type { MembershipSource } from '../../src/modules/members/membership.entity.ts';
import { createOrganization } from '../../src/modules/orgs/orgs.service.ts';
import { OrgScope } from '../../src/modules/scope.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { client, type Client, type TestApp } from './app.ts';

const meta = { ip: null, userAgent: 'test factory', requestId: null };

export interface TestMember {
  userId: string;
  email: string;
  key: string;
  api: Client;
}

export interface TestOrg {
  orgId: string;
  slug: string;
  owner: TestMember;
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.test`;
}

export async function createUser(t: TestApp, email = uniqueEmail()): Promise<{ id: string; email: string }> {
  const user = await t.db.withoutOrg((em) => new UsersRepository(em).create({ email, name: null, passwordHash: null }));
  return { id: user.id, email: user.email };
}

export async function keyFor(t: TestApp, orgId: string, userId: string, role: string): Promise<string> {
  const created = await t.db.inOrg(orgId, (em) =>
    new ApiKeysService(new OrgScope(orgId, em, null, meta), t.app.services.apiKeyTokens).create({ name: `${role} key`, role }, userId));
  return created.key;
}

/** An org with its owner and the owner's API key, made through the services (not the API). */
export async function createOrg(t: TestApp, name = `Org ${randomUUID().slice(0, 6)}`): Promise<TestOrg> {
  const user = await createUser(t, uniqueEmail('owner'));
  const { org } = await createOrganization(t.db, { name, owner: { userId: user.id, source: 'bootstrap' }, principal: null, meta });
  const key = await keyFor(t, org.id, user.id, 'owner');
  return { orgId: org.id, slug: org.slug, owner: { userId: user.id, email: user.email, key, api: client(t.url, key) } };
}

/** A new member of `orgId` with `role`, and an API key acting with that role. */
export async function addMember(t: TestApp, orgId: string, role: string, source: MembershipSource = 'invite'): Promise<TestMember> {
  const user = await createUser(t);
  await t.db.inOrg(orgId, (em) => new MembersRepository(em).create({ orgId, userId: user.id, role, source }));
  const key = await keyFor(t, orgId, user.id, role);
  return { userId: user.id, email: user.email, key, api: client(t.url, key) };
}
