import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { User } from './user.entity.ts';

export interface NewUser {
  email: string;
  name: string | null;
  passwordHash: string | null;
  managedByOrgId?: string | null;
}

// Users are global (not org rows): any transaction may read them, by id or by email.
export class UsersRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** The person's own account for this address (never an org-managed one: those sign in only through their org's IdP). */
  findByEmail(email: string): Promise<User | null> {
    return this.#em.findOne(User, { email: normalizeEmail(email), managedByOrgId: null });
  }

  /** The account `orgId`'s IdP made for this address outside the org's verified domains. */
  findManaged(orgId: string, email: string): Promise<User | null> {
    return this.#em.findOne(User, { email: normalizeEmail(email), managedByOrgId: orgId });
  }

  findById(id: string): Promise<User | null> {
    return this.#em.findOne(User, { id });
  }

  /** Sets or clears disabled_at; the user, or null if there is none. */
  async setDisabled(id: string, disabledAt: Date | null): Promise<User | null> {
    const user = await this.findById(id);
    if (!user) return null;
    user.disabledAt = disabledAt;
    await this.#em.flush();
    return user;
  }

  async create(input: NewUser): Promise<User> {
    const user = this.#em.create(User, { id: uuidv7(), ...input, email: normalizeEmail(input.email) });
    await this.#em.flush();
    return user;
  }
}

/** Emails are stored lower-cased; the unique index on lower(email) backs this up. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
