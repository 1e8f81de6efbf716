import type { EntityManager } from '@mikro-orm/sql';
import { AppError } from '../../errors.ts';
import { normalizeEmail, UsersRepository } from '../users/users.repository.ts';
import type { DirectoryUserInput } from './directory-records.ts';
import { DirectoryUsersRepository } from './directory-users.repository.ts';

// A deliberately loose shape check: the address only chooses an account; nobody is mailed here.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The address a directory user is linked by: their email, else a userName that is an address. */
export function linkEmail(input: DirectoryUserInput): string {
  const candidate = input.email ?? (EMAIL.test(input.userName) ? input.userName : null);
  if (!candidate || !EMAIL.test(candidate)) {
    throw new AppError('scim.invalid_value', 400, 'A user needs an email address (emails, or a userName that is one) to be linked to an account.');
  }
  return normalizeEmail(candidate);
}

/**
 * The Gatehouse account a new directory user stands for (DESIGN.md, identity model), as SSO's
 * just-in-time provisioning decides it (src/federation/jit.ts): an address in one of the org's
 * verified domains is the person's own account (made, without a password, if there is none),
 * since the org proved it controls the address; any other address gets an account managed by
 * this org alone, never the account of whoever owns the address elsewhere.
 */
export async function accountFor(em: EntityManager, orgId: string, email: string, name: string | null): Promise<{ id: string; managedBefore: boolean }> {
  // The domain check names the org as well as being enforced by row-level security: the
  // no-takeover rule rests on it.
  const link = await new DirectoryUsersRepository(em).linkCandidates(orgId, email);
  const users = new UsersRepository(em);
  if (link.verified) return { id: link.ownId ?? (await users.create({ email, name, passwordHash: null })).id, managedBefore: false };
  if (link.managedId) return { id: link.managedId, managedBefore: true };
  return { id: (await users.create({ email, name, passwordHash: null, managedByOrgId: orgId })).id, managedBefore: false };
}
