import type { Database } from '../../db/database.ts';
import { SignInAttemptsRepository } from './sign-in-attempts.repository.ts';

// Sign-ups per client address, counted in the sign-in throttle's table (one fixed-window counter
// per key, shared by every node). Every attempt counts, successful or not: a sign-up answers
// whether an email is taken, so this is what keeps it from being an enumeration oracle at speed.
const windowSeconds = 3600;
export const maxSignUpsPerAddress = 20;

const keyOf = (ip: string) => `signup:ip:${ip}`;

export class SignUpThrottle {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async blocked(ip: string): Promise<boolean> {
    const counts = await this.#db.withoutOrg((em) => new SignInAttemptsRepository(em).failures([keyOf(ip)], windowSeconds));
    return (counts.get(keyOf(ip)) ?? 0) >= maxSignUpsPerAddress;
  }

  async attempted(ip: string): Promise<void> {
    await this.#db.withoutOrg((em) => new SignInAttemptsRepository(em).addFailure([keyOf(ip)], windowSeconds));
  }
}
