import { createHash, randomInt } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import type { Config } from '../../../config/config.schema.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import { AppError, ConflictError, NotFoundError } from '../../errors.ts';
import { SignInThrottle } from '../../oidc/interactions/sign-in-throttle.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import type { OrgScope } from '../scope.ts';
import { MfaRepository, type TotpRow } from './mfa.repository.ts';
import { isTotpCode, matchingStep, newTotpSecret, otpauthUri } from './totp.ts';
import { UsersRepository } from './users.repository.ts';

export interface MfaDeps {
  secrets: SecretBox;
  /** The name authenticator apps show above the account: this deployment's host. */
  issuer: string;
}

export function mfaDeps(config: Config, secrets: SecretBox): MfaDeps {
  return { secrets, issuer: new URL(config.publicUrl).host };
}

export interface Enrolment {
  secret: string;
  otpauthUri: string;
}

/**
 * A code that does not match (or was used already). It is returned, not thrown, by the code
 * checks below: the failure is counted in the same transaction, which must commit before the
 * caller refuses (a rollback would forget the count and leave guessing unthrottled).
 */
export class CodeRefused extends AppError {
  constructor() {
    super('mfa.invalid_code', 400, 'That code is not valid. Codes change every 30 seconds and each works once.');
  }
}

export class TooManyCodeAttempts extends AppError {
  constructor() {
    super('mfa.too_many_attempts', 429, 'Too many wrong codes. Wait a few minutes and try again.');
  }
}

// Recovery codes: 10 of them, 10 characters of Crockford's base32 each (50 random bits), shown
// as xxxxx-xxxxx. Stored as SHA-256 of the normalised code: with that much entropy a fast hash
// does not make guessing offline any easier than online.
const recoveryCodeCount = 10;
const crockford = '0123456789abcdefghjkmnpqrstvwxyz';

function newRecoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => crockford[randomInt(32)]).join('');
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

/** What a person types, as stored: case, spaces and dashes ignored, and o, i, l read as 0, 1, 1. */
export function normaliseCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

function hashRecoveryCode(normalised: string): string {
  return createHash('sha256').update(normalised).digest('hex');
}

/**
 * Two-step verification of one user: a TOTP secret enrolled by its first code, recovery codes,
 * verification and removal. Works in the caller's transaction; with an org scope, enrolment and
 * removal are audited in that org. Wrong codes are throttled per user (5 per 15 minutes).
 */
export class MfaService {
  readonly #em: EntityManager;
  readonly #repo: MfaRepository;
  readonly #deps: MfaDeps;
  readonly #audit: OrgScope | null;

  constructor(em: EntityManager, deps: MfaDeps, audit: OrgScope | null = null) {
    this.#em = em;
    this.#repo = new MfaRepository(em);
    this.#deps = deps;
    this.#audit = audit;
  }

  enrolled(userId: string): Promise<boolean> {
    return this.#repo.isEnrolled(userId);
  }

  /** A new secret waiting for its first code (it replaces one still waiting); refused once enrolled. */
  async startEnrolment(userId: string): Promise<Enrolment> {
    const user = await new UsersRepository(this.#em).findById(userId);
    if (!user) throw new NotFoundError('user.not_found', 'User not found.');
    const secret = newTotpSecret();
    if (!(await this.#repo.saveUnconfirmed(userId, this.#deps.secrets.seal(secret, sealedFor(userId))))) {
      throw new ConflictError('mfa.already_enrolled', 'Two-step verification is already on. Turn it off (with a code) before enrolling another device.');
    }
    return { secret, otpauthUri: otpauthUri(secret, user.email, this.#deps.issuer) };
  }

  /** The enrolment waiting for its first code, to show again after a wrong one; null if none. */
  async enrolmentInProgress(userId: string): Promise<Enrolment | null> {
    const row = await this.#repo.lockTotp(userId);
    const user = await new UsersRepository(this.#em).findById(userId);
    if (!row || row.confirmed_at || !user) return null;
    const secret = this.#open(row);
    return { secret, otpauthUri: otpauthUri(secret, user.email, this.#deps.issuer) };
  }

  /** The first code confirms the enrolment; the recovery codes are returned once (only hashes stay). */
  async confirmEnrolment(userId: string, code: string): Promise<string[] | CodeRefused> {
    const row = await this.#repo.lockTotp(userId);
    if (!row || row.confirmed_at) throw new ConflictError('mfa.no_enrolment', 'There is no enrolment waiting for a code. Start one first.');
    const confirmed = await this.#attempt(userId, async () => {
      const step = matchingStep(this.#open(row), normaliseCode(code));
      if (step === null) return null;
      await this.#repo.confirm(userId, step);
      return true;
    });
    if (confirmed instanceof CodeRefused) return confirmed;
    const codes = Array.from({ length: recoveryCodeCount }, newRecoveryCode);
    await this.#repo.replaceRecoveryCodes(userId, codes.map((c) => hashRecoveryCode(normaliseCode(c))));
    if (this.#audit) await recordAudit(this.#audit, { type: 'mfa.enrolled', target: { type: 'user', id: userId }, after: { method: 'totp', recoveryCodes: codes.length } });
    return codes;
  }

  /** A TOTP code (each time step once) or a recovery code (each once): which one it was, or refused. */
  async verify(userId: string, code: string): Promise<'totp' | 'recovery' | CodeRefused> {
    const row = await this.#enrolledRow(userId);
    return this.#attempt(userId, () => this.#spend(row, normaliseCode(code)));
  }

  /** Turns two-step verification off; it takes a current code, so a stolen session alone cannot. */
  async disable(userId: string, code: string): Promise<void | CodeRefused> {
    const row = await this.#enrolledRow(userId);
    const spent = await this.#attempt(userId, () => this.#spend(row, normaliseCode(code)));
    if (spent instanceof CodeRefused) return spent;
    await this.#repo.remove(userId);
    if (this.#audit) await recordAudit(this.#audit, { type: 'mfa.disabled', target: { type: 'user', id: userId }, before: { method: 'totp' } });
  }

  async #enrolledRow(userId: string): Promise<TotpRow> {
    const row = await this.#repo.lockTotp(userId);
    if (!row?.confirmed_at) throw new NotFoundError('mfa.not_enrolled', 'Two-step verification is not on for this account.');
    return row;
  }

  async #spend(row: TotpRow, code: string): Promise<'totp' | 'recovery' | null> {
    if (isTotpCode(code)) {
      const step = matchingStep(this.#open(row), code);
      return step !== null && (await this.#repo.spendStep(row.user_id, step)) ? 'totp' : null;
    }
    if (code.length !== 10) return null;
    return (await this.#repo.spendRecoveryCode(row.user_id, hashRecoveryCode(code))) ? 'recovery' : null;
  }

  /**
   * One code attempt, under the user's TOTP row lock taken by the caller: refused while the user
   * is throttled; a miss is counted and returned as CodeRefused; a match clears the count.
   */
  async #attempt<T>(userId: string, check: () => Promise<T | null>): Promise<T | CodeRefused> {
    const attempts = SignInThrottle.attemptsOf(this.#em, `totp:${userId}`);
    if (await attempts.blocked()) throw new TooManyCodeAttempts();
    const outcome = await check();
    if (outcome === null) {
      await attempts.failed();
      return new CodeRefused();
    }
    await attempts.cleared();
    return outcome;
  }

  #open(row: TotpRow): string {
    return this.#deps.secrets.open(row.secret_sealed, sealedFor(row.user_id));
  }
}

/** Sealed secrets are bound to their row: one copied to another user does not open. */
function sealedFor(userId: string): string {
  return `user_totp:${userId}`;
}
