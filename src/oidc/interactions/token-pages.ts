import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { AppError, ForbiddenError } from '../../errors.ts';
import { formBody } from './flow.ts';
import { messagePage } from './views.ts';

/**
 * CSRF for hosted pages that live outside an interaction and are named by a one-time token in
 * the URL (/password-reset/<token>, /invitations/<token>): each form carries an HMAC of the
 * token, keyed per purpose, so a field made for one kind of page is worth nothing on another.
 * There is no session to bind to; the token itself is the secret the page belongs to.
 */
export class TokenForms {
  readonly #key: Buffer;

  constructor(secretKey: string, purpose: string) {
    this.#key = Buffer.from(hkdfSync('sha256', Buffer.from(secretKey), Buffer.alloc(0), `gatehouse token page csrf v1 ${purpose}`, 32));
  }

  csrfOf(token: string): string {
    return createHmac('sha256', this.#key).update(token).digest('base64url');
  }

  /** Refuses a post whose `csrf` field is not this token's. */
  check(ctx: Context, token: string): void {
    const given = Buffer.from(String(formBody(ctx).csrf ?? ''));
    const expected = Buffer.from(this.csrfOf(token));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ForbiddenError('form.expired', 'This form has expired. Go back, reload the page and try again.');
    }
  }
}

/**
 * Inside hostedPages(): the token must not leave in a Referer header, and a service's AppError
 * (4xx) becomes a page with its status and its client-safe message. Anything else goes on to
 * hostedPages' generic page.
 */
export function tokenPages(title: string): Middleware {
  return async function tokenPage(ctx, next) {
    ctx.set('Referrer-Policy', 'no-referrer');
    try {
      await next();
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      ctx.status = err.status;
      ctx.type = 'html';
      ctx.body = messagePage(title, err.errors?.[0]?.message ?? err.detail);
    }
  };
}
