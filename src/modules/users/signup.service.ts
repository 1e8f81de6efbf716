import type { Config } from '../../../config/config.schema.ts';
import type { Database } from '../../db/database.ts';
import { ConflictError } from '../../errors.ts';
import { createOrganization, type OrgView } from '../orgs/orgs.service.ts';
import type { RequestMeta } from '../scope.ts';
import { hashPassword } from './password.ts';
import { UsersRepository } from './users.repository.ts';

export interface SignUp {
  email: string;
  password: string;
  name: string | null;
}

/**
 * Self sign-up: a new global user and, when config enables it, a personal org they own. Only
 * people who sign up by themselves get one; accounts made by SSO or SCIM never come through here.
 */
export async function signUp(db: Database, config: Config, input: SignUp, meta: RequestMeta): Promise<{ userId: string; personalOrg: OrgView | null }> {
  const passwordHash = await hashPassword(input.password);
  const newUser = { email: input.email, name: input.name, passwordHash };
  if (!config.personalOrgs) {
    const user = await db.withoutOrg(async (em) => {
      const users = new UsersRepository(em);
      if (await users.findByEmail(input.email)) throw new ConflictError('user.exists', 'An account with this email already exists.');
      return users.create(newUser);
    });
    return { userId: user.id, personalOrg: null };
  }
  const { org, ownerId } = await createOrganization(db, {
    name: input.name ? `${input.name}'s workspace` : 'Personal workspace',
    kind: 'personal',
    owner: { source: 'signup', newUser },
    principal: null,
    meta,
  });
  return { userId: ownerId, personalOrg: org };
}
