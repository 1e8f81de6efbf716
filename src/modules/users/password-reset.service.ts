import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/sql';
import type { Config } from '../../../config/config.schema.ts';
import type { Database } from '../../db/database.ts';
import { AppError, GoneError } from '../../errors.ts';
import { OidcModelsRepository } from '../../oidc/oidc-models.repository.ts';
import { SignInThrottle } from '../../oidc/interactions/sign-in-throttle.ts';
import type { Mail, Mailer } from '../mail/mailer.ts';
import { hashPassword } from './password.ts';
import { PasswordResetsRepository } from './password-resets.repository.ts';
import type { User } from './user.entity.ts';
import { UsersRepository } from './users.repository.ts';

const ttlSeconds = 3600;
/** Reset mails one account may be sent per hour; more requests get the same answer and no mail. */
export const maxResetMailsPerHour = 3;
/**
 * Every reset request takes at least this long, so an email with an account (a few writes and a
 * queued mail) cannot be told from one without (a single read) by the time the answer takes.
 */
export const requestFloorMs = 250;

// A reset token is 32 random bytes (base64url, 43 characters); only its SHA-256 is stored. With
// 256 bits of entropy a plain hash cannot be reversed by guessing, so no key or salt is needed.
const tokenShape = /^[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function invalidLink(): AppError {
  return new AppError('password_reset.invalid', 400, 'This password reset link is not valid. Ask for a new one from the sign-in page.');
}

/** The mail holds the one-time link, so it must never be logged. */
function resetMail(to: string, url: string): Mail {
  return {
    to,
    subject: 'Reset your password',
    text: [
      `Someone asked to reset the password of the account ${to}.`,
      '',
      `Choose a new password: ${url}`,
      '',
      'The link works once and expires in one hour.',
      'If you did not ask for this, ignore this message: your password stays as it is.',
    ].join('\n'),
  };
}

export interface PasswordResetDeps {
  db: Database;
  config: Pick<Config, 'publicUrl'>;
  mailer: Mailer;
}

/**
 * Password reset by an emailed one-time link. Asking never says whether an email has an
 * account; using a link sets the password, retires the account's other links, clears its
 * sign-in throttling and ends its sessions, all or nothing.
 */
export class PasswordResetService {
  readonly #deps: PasswordResetDeps;

  constructor(deps: PasswordResetDeps) {
    this.#deps = deps;
  }

  /** Mails a link if the email has an account that may have one. Same outcome, same time, either way. */
  async request(email: string): Promise<void> {
    const floor = sleep(requestFloorMs);
    try {
      await this.#deps.db.withoutOrg(async (em) => {
        const user = await new UsersRepository(em).findByEmail(email);
        // Accounts without a password sign in through SSO: an emailed link must not give them one
        // (it would get around the org's IdP). Disabled accounts may not sign in at all.
        if (!user || !user.passwordHash || user.disabledAt) return;
        const resets = new PasswordResetsRepository(em);
        await resets.lockUser(user.id);
        if ((await resets.countSince(user.id, 3600)) >= maxResetMailsPerHour) return;
        const token = randomBytes(32).toString('base64url');
        await resets.create(user.id, hashToken(token), ttlSeconds);
        await this.#deps.mailer.enqueue(em, resetMail(user.email, `${this.#deps.config.publicUrl}/password-reset/${token}`));
      });
    } finally {
      await floor;
    }
  }

  /** The account a live link is for (to show on its page); throws if the link cannot be used. */
  async inspect(token: string): Promise<{ email: string }> {
    return this.#deps.db.withoutOrg(async (em) => {
      const row = tokenShape.test(token) ? await new PasswordResetsRepository(em).findByTokenHash(hashToken(token)) : null;
      if (!row) throw invalidLink();
      if (row.state !== 'live') throw notLive(row.state);
      return { email: (await usable(em, row.user_id)).email };
    });
  }

  /** Sets the new password through a live link, once. */
  async complete(token: string, password: string): Promise<{ userId: string }> {
    if (!tokenShape.test(token)) throw invalidLink();
    const tokenHash = hashToken(token);
    // Hashed before the transaction, so no row stays locked for the scrypt's duration.
    const passwordHash = await hashPassword(password);
    const user = await this.#deps.db.withoutOrg(async (em) => {
      const resets = new PasswordResetsRepository(em);
      const used = await resets.consume(tokenHash);
      if (!used) {
        const row = await resets.findByTokenHash(tokenHash);
        throw row ? notLive(row.state === 'live' ? 'used' : row.state) : invalidLink();
      }
      const account = await usable(em, used.user_id);
      account.passwordHash = passwordHash;
      await em.flush();
      await resets.retireOthers(account.id, used.id);
      // Whoever was signed in (perhaps with the old, leaked password) must sign in again.
      await new OidcModelsRepository(em).destroySessionsOf(account.id);
      return account;
    });
    // The lockout was for guesses at the old password; the owner has just proven the mailbox.
    await new SignInThrottle(this.#deps.db).succeeded(user.email);
    return { userId: user.id };
  }
}

function notLive(state: 'used' | 'expired'): GoneError {
  return state === 'used'
    ? new GoneError('password_reset.used', 'This password reset link has been used already. Ask for a new one from the sign-in page if you need to.')
    : new GoneError('password_reset.expired', 'This password reset link has expired. Ask for a new one from the sign-in page.');
}

/** A link's account, if it still may reset: a disabled account's links stop working. */
async function usable(em: EntityManager, userId: string): Promise<User> {
  const user = await new UsersRepository(em).findById(userId);
  if (!user || user.disabledAt) throw invalidLink();
  return user;
}
