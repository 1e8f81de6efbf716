import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import type { InteractionResults } from 'oidc-provider';
import type { Config } from '../../../config/config.schema.ts';
import type { Database } from '../../db/database.ts';
import type { PlatformRepository } from '../../modules/platform/platform.repository.ts';
import { UsersRepository } from '../../modules/users/users.repository.ts';
import { GrantOrgsRepository } from '../grant-orgs.repository.ts';
import type { Issuer } from '../issuer.ts';
import { holdForSecondFactor, pendingSecondFactor, secondFactorStepFor } from './second-factor.ts';
import { messagePage, orgPage } from './views.ts';

export interface InteractionDeps {
  config: Config;
  db: Database;
  platform: PlatformRepository;
  issuer: Issuer;
}

export type Details = Awaited<ReturnType<Issuer['provider']['interactionDetails']>>;

/** A sign-in through an org's SSO connection. */
export interface SsoSignIn {
  connectionId: string;
  orgId: string;
}

/** RFC 8176 has no value for "a federated IdP vouched"; `fed` is the one in common use. */
export const ssoAmr = ['fed'];

/** A sign-in step that cannot go on: shown to the person as a page with this status. */
export class InteractionError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Form bodies of the hosted pages: small, urlencoded only. */
export const forms = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });

export function formBody(ctx: Context): Record<string, unknown> {
  return (ctx.request as { body?: Record<string, unknown> }).body ?? {};
}

/**
 * Headers of every hosted page (no caching, no framing, no scripts) and the one place their
 * errors become a page: a known step error shows its message, anything else a generic one with
 * the request id (the cause goes to the log).
 */
export function hostedPages(): Middleware {
  return async function hostedPage(ctx, next) {
    try {
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
      await next();
    } catch (err) {
      const known = err instanceof InteractionError;
      if (!known) ctx.state.log?.warn({ err }, 'hosted page failed');
      ctx.status = known ? err.status : 400;
      ctx.type = 'html';
      ctx.body = messagePage('Sign-in could not continue', known ? err.message : `This sign-in has expired or is not valid. Start again from the application. (request ${ctx.state.requestId})`);
    }
  };
}

/**
 * What every step of the hosted sign-in shares: loading the interaction (with its CSRF check on
 * posts), and finishing it in an org. Each form carries a token bound to the interaction, on top
 * of the SameSite interaction cookie.
 */
export class InteractionFlow {
  readonly deps: InteractionDeps;
  readonly #csrfKey: Buffer;

  constructor(deps: InteractionDeps) {
    this.deps = deps;
    this.#csrfKey = Buffer.from(hkdfSync('sha256', Buffer.from(deps.config.secretKey), Buffer.alloc(0), 'gatehouse interaction csrf v1', 32));
  }

  csrfOf(details: Details): string {
    return createHmac('sha256', this.#csrfKey).update(details.uid).digest('base64url');
  }

  action(details: Details, step: string): string {
    return `/interaction/${details.uid}/${step}`;
  }

  /** The interaction of this browser, which must be the one in the path; posts must carry its CSRF token. */
  async load(ctx: Context, post: boolean): Promise<Details> {
    const details = await this.deps.issuer.provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new InteractionError(400, 'This sign-in link does not match your session. Start again from the application.');
    if (post) {
      const given = Buffer.from(String(formBody(ctx).csrf ?? ''));
      const expected = Buffer.from(this.csrfOf(details));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new InteractionError(403, 'This form has expired. Go back and try again.');
      }
    }
    return details;
  }

  /** The person signed in earlier in this interaction (before the org step), if any. */
  signedIn(details: Details): string | undefined {
    this.#refuseIfSecondFactorPending(details);
    return (details.result as { login?: { accountId?: string } } | undefined)?.login?.accountId;
  }

  /** Remembers who signed in (and how: RFC 8176 `amr` values), for a later step of the same interaction. */
  async remember(details: Details, userId: string, amr = this.amrOf(details, userId)): Promise<void> {
    details.result = { login: { accountId: userId, amr } };
    await details.save(details.exp - Math.floor(Date.now() / 1000));
  }

  /** A disabled user gets no further than their password, whichever way they signed in. */
  async #assertActive(userId: string): Promise<void> {
    const user = await this.deps.db.withoutOrg((em) => new UsersRepository(em).findById(userId));
    if (!user || user.disabledAt) throw new InteractionError(403, 'This account has been disabled. Contact your administrator.');
  }

  /**
   * How `userId` proved who they are in this sign-in, for the ID token's `amr`: what a step of
   * this interaction recorded, else (at a consent step, the person signed in already) what the
   * session's sign-in recorded, else a password.
   */
  amrOf(details: Details, userId: string): string[] {
    const login = (details.result as { login?: { accountId?: string; amr?: string[] } } | undefined)?.login;
    if (login?.accountId === userId && login.amr) return login.amr;
    const session = details.session;
    if (details.prompt.name !== 'login' && session?.accountId === userId && session.amr) return session.amr;
    return ['pwd'];
  }

  #refuseIfSecondFactorPending(details: Details): void {
    if (pendingSecondFactor(details)) throw new InteractionError(403, 'Enter the code from your authenticator app first.');
  }

  /**
   * The second-factor step this sign-in still needs before it may finish in `orgId`: none once
   * it has used one or came through the org's own SSO (its IdP owns the factors); else a code if
   * the user has TOTP, or enrolment if the org requires it.
   */
  async secondFactorStep(details: Details, userId: string, orgId: string, sso?: SsoSignIn) {
    if (sso?.orgId === orgId || this.amrOf(details, userId).includes('otp')) return null;
    return secondFactorStepFor(this.deps.db, userId, orgId);
  }

  /**
   * Ends the interaction: the grant acts in `orgId`, and the browser goes back to the provider.
   * `sso`: the sign-in went through that SSO connection (of `sso.orgId`); an org that enforces
   * SSO of this user accepts no other.
   */
  async finish(ctx: Context, details: Details, userId: string, orgId: string, sso?: SsoSignIn): Promise<void> {
    this.#refuseIfSecondFactorPending(details);
    await this.#assertActive(userId);
    if (sso?.orgId !== orgId && (await this.deps.platform.ssoRequired(orgId, userId))) {
      throw new InteractionError(403, 'Your organization requires single sign-on. Start again from the application and enter your work email to sign in with your company account.');
    }
    const step = await this.secondFactorStep(details, userId, orgId, sso);
    if (step) return holdForSecondFactor(ctx, details, { userId, step, orgId });
    const provider = this.deps.issuer.provider;
    const clientId = String(details.params.client_id);
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: userId, clientId });
    if (!grant) throw new InteractionError(400, 'This sign-in has expired. Start again from the application.');
    // First-party clients: what they asked for is granted, no consent screen.
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    if (typeof details.params.resource === 'string') grant.addResourceScope(details.params.resource, 'api');
    const grantId = await grant.save();
    await this.deps.db.inOrg(orgId, (em) => new GrantOrgsRepository(em).set(grantId, orgId, userId, sso?.connectionId ?? null));
    const amr = sso ? ssoAmr : this.amrOf(details, userId);
    const result: InteractionResults = { login: { accountId: userId, amr }, consent: { grantId } };
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(to);
  }

  /** After sign-in: the org the request named, the only one, or the person's pick. */
  async chooseOrg(ctx: Context, details: Details, userId: string): Promise<void> {
    await this.#assertActive(userId);
    const orgs = await this.deps.platform.orgsOfUser(userId);
    const named = details.params.organization;
    if (typeof named === 'string' && named) {
      const org = orgs.find((o) => o.id === named || o.slug === named);
      if (!org) throw new InteractionError(403, 'You are not a member of the organization this application asked for.');
      return this.finish(ctx, details, userId, org.id);
    }
    if (orgs.length === 0) throw new InteractionError(403, 'Your account does not belong to any organization yet. Ask for an invitation.');
    if (orgs.length === 1) return this.finish(ctx, details, userId, orgs[0]!.id);
    await this.remember(details, userId);
    ctx.type = 'html';
    ctx.body = orgPage(this.action(details, 'org'), this.csrfOf(details), orgs);
  }
}
