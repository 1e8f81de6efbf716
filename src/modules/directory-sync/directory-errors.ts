import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { AppError, ConflictError, NotFoundError } from '../../errors.ts';

// The errors the directory-sync service throws; the SCIM edge renders them in the SCIM Error
// schema (RFC 7644 §3.12), with the scimType the code names.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Resource ids are UUIDs; anything else names no resource (and must not reach a uuid cast). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}

export function userNotFound(): NotFoundError {
  return new NotFoundError('scim.not_found', 'No such user in this directory.');
}

export function groupNotFound(): NotFoundError {
  return new NotFoundError('scim.not_found', 'No such group in this directory.');
}

/** RFC 7644 §3.3: a userName (any case) or a linked account this org's directories already have. */
export function uniqueness(cause?: unknown): ConflictError {
  const err = new ConflictError('scim.uniqueness', 'A user with this userName, or linked to the same account, already exists in this organization\'s directories.');
  if (cause) Object.defineProperty(err, 'cause', { value: cause });
  return err;
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof UniqueConstraintViolationException || (err as { code?: unknown } | null)?.code === '23505';
}

/** RFC 7644 §3.14: the version the client last saw (If-Match) is not the current one. */
export function checkVersion(current: number, ifVersion: number | undefined): void {
  if (ifVersion !== undefined && ifVersion !== current) {
    throw new AppError('scim.precondition_failed', 412, 'The resource changed since that version was read.');
  }
}

export function notADirectoryUser(id: string): AppError {
  return new AppError('scim.invalid_value', 400, `"${id}" is not a user of this directory.`);
}
