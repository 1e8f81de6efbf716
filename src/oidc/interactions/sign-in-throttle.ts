import type { EntityManager } from '@mikro-orm/sql';
import type { Database } from '../../db/database.ts';
import { SignInAttemptsRepository } from './sign-in-attempts.repository.ts';

// Failed sign-ins are limited per account and per client address over a fixed window. The
// account key is the email as typed, whether or not an account has it, so a lockout says
// nothing about which emails exist.
const windowSeconds = 15 * 60;
const limits = { account: 5, address: 50 };

function keysOf(email: string, ip: string): { account: string; address: string } {
  return { account: `account:${email.trim().toLowerCase()}`, address: `ip:${ip}` };
}

export class SignInThrottle {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** True when this email or this address has used up its failures for now. */
  async blocked(email: string, ip: string): Promise<boolean> {
    const keys = keysOf(email, ip);
    const failures = await this.#db.withoutOrg((em) => new SignInAttemptsRepository(em).failures([keys.account, keys.address], windowSeconds));
    return (failures.get(keys.account) ?? 0) >= limits.account || (failures.get(keys.address) ?? 0) >= limits.address;
  }

  async failed(email: string, ip: string): Promise<void> {
    const keys = keysOf(email, ip);
    await this.#db.withoutOrg((em) => new SignInAttemptsRepository(em).addFailure([keys.account, keys.address], windowSeconds));
  }

  /** A success clears the account's count (not the address's: one good password does not vouch for others). */
  async succeeded(email: string): Promise<void> {
    await this.#db.withoutOrg((em) => new SignInAttemptsRepository(em).clear(keysOf(email, '').account));
  }

  /**
   * The same window and limit (5 per 15 minutes) for another secret a person types, such as a
   * second-factor code under `totp:<userId>`, counted in the caller's transaction: the check
   * and the failure it finds commit together, under whatever lock the caller holds.
   */
  static attemptsOf(em: EntityManager, key: string) {
    const attempts = new SignInAttemptsRepository(em);
    return {
      blocked: async () => ((await attempts.failures([key], windowSeconds)).get(key) ?? 0) >= limits.account,
      failed: () => attempts.addFailure([key], windowSeconds),
      /** Counts one failure and says whether it went past the limit, in one statement (no check-then-count race). */
      failedPastLimit: async () => ((await attempts.addFailure([key], windowSeconds)).get(key) ?? 0) > limits.account,
      cleared: () => attempts.clear(key),
    };
  }
}
