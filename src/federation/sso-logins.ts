import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { requestMeta } from '../http/org-context.ts';
import type { Connection } from '../modules/connections/connection.entity.ts';
import { InteractionError, InteractionFlow, ssoAmr, type Details, type InteractionDeps } from '../oidc/interactions/flow.ts';
import { provisionSsoLogin } from './jit.ts';
import { platformSignInUser } from './platform-accounts.ts';
import { idpInitiatedPage } from './sso-views.ts';
import { SsoError } from './sso-edge.ts';
import { SsoTestOutcomes } from './sso-tests.ts';
import type { SsoProfile } from './sso-profile.ts';
import type { SsoRequestRow, SsoRequestsRepository } from './sso-requests.repository.ts';
import { ssoDisabledByPlan } from '../modules/billing/plan-effects.ts';
import type { PlanDeps } from '../modules/billing/plan-gate.ts';

/** Who vouches for a verified profile: an org's connection, or a platform-wide provider. */
export type SsoSource = { kind: 'connection'; connection: Connection } | { kind: 'platform'; provider: 'google' | 'github' };

// An IdP-initiated login's verified answer travels to the product's authorization request in
// this cookie (signed; Lax, so it rides the top-level navigations that follow).
const ticketCookie = 'gatehouse.sso_ticket';
const ticketSeconds = 300;

/**
 * The hand-off from an SSO edge back into the hosted sign-in. An edge calls `verified` once
 * every protocol check passed; the person is provisioned and signed in only later, at the
 * interaction of the browser that started the request (its interaction cookie proves it is
 * that browser: the IdP's POST to the ACS carries no Lax cookie).
 */
export class SsoLogins {
  readonly flow: InteractionFlow;
  /** Test sign-ins' outcomes (the console's connection test): checked alike, never signed in. */
  readonly tests: SsoTestOutcomes;
  readonly #deps: InteractionDeps;
  readonly #requests: SsoRequestsRepository;
  readonly #plans: PlanDeps;

  constructor(deps: InteractionDeps, requests: SsoRequestsRepository, plans: PlanDeps) {
    this.#deps = deps;
    this.flow = new InteractionFlow(deps);
    this.#requests = requests;
    this.#plans = plans;
    this.tests = new SsoTestOutcomes(deps.db, requests, plans);
  }

  /** `requestId` is the request the IdP answered (null: an IdP-initiated SAML login). Redirects the browser. */
  async verified(ctx: Context, source: SsoSource, requestId: string | null, profile: SsoProfile): Promise<void> {
    const provider = source.kind === 'connection' ? source.connection.type : source.provider;
    const connectionId = source.kind === 'connection' ? source.connection.id : null;
    if (requestId === null) return this.#idpInitiated(ctx, source, profile);
    // answer() takes the request once: a second response to it (a replay) finds it answered. An
    // inactive connection answers test sign-ins only (see answerable), never a real one.
    const inactive = source.kind === 'connection' && !source.connection.active;
    const interactionUid = inactive ? null : await this.#requests.answer(requestId, provider, connectionId, profile);
    const testId = !interactionUid && source.kind === 'connection' ? await this.#requests.answerTest(requestId, provider, source.connection.id) : null;
    if (testId && source.kind === 'connection') return this.tests.passed(ctx, source.connection, testId, profile);
    if (!interactionUid) throw new SsoError(400, 'sso.request_answered', 'This sign-in response was used already or has expired. Start again from the application.');
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(interactionUid)}/sso/done/${encodeURIComponent(requestId)}`);
  }

  /**
   * Whether an IdP's answer to `requestId` may be checked at `connection`: always when it is
   * active; when it is not, only a test sign-in's unanswered request (a test signs nobody in, and
   * is how a connection is checked before an administrator turns it on). The id is the one the
   * answer claims; every check of the answer still runs after this.
   */
  async answerable(connection: Connection, requestId: string | null): Promise<boolean> {
    if (connection.active) return true;
    const row = requestId ? await this.#requests.find(requestId, connection.type, connection.id) : null;
    return Boolean(row?.test_id && !row.used_at);
  }

  async #idpInitiated(ctx: Context, source: SsoSource, profile: SsoProfile): Promise<void> {
    const saml = source.kind === 'connection' ? source.connection.saml : null;
    if (source.kind !== 'connection' || !saml?.allowIdpInitiated || !saml.idpInitiatedLoginUrl) {
      throw new SsoError(403, 'saml.idp_initiated_disabled', 'Sign-in started at the identity provider is not enabled for this connection. Start from the application instead.');
    }
    const ticket = randomBytes(32).toString('base64url');
    await this.#requests.create({ id: ticket, provider: 'saml', connectionId: source.connection.id, interactionUid: null, outcome: profile, ttlSeconds: ticketSeconds });
    ctx.cookies.set(ticketCookie, ticket, { httpOnly: true, sameSite: 'lax', signed: true, path: '/interaction', maxAge: ticketSeconds * 1000, secure: ctx.secure });
    ctx.status = 303;
    ctx.redirect(saml.idpInitiatedLoginUrl);
  }

  /** At this browser's interaction: the verified answer to request `requestId` it started, taken once. */
  async complete(ctx: Context, details: Details, requestId: string): Promise<void> {
    const row = await this.#deps.db.withoutOrg((em) => this.#requests.takeOutcome(em, requestId, details.uid));
    if (!row) throw new InteractionError(400, 'This sign-in response does not belong to this browser or has expired. Start again from the application.');
    return this.#signIn(ctx, details, row);
  }

  /**
   * The first step of an interaction, when this browser carries an IdP-initiated login's answer:
   * a page asking the person to continue as that identity (true then). A login started at an IdP
   * can be forced on a browser by any page that posts to the ACS; confirming it shows whose
   * identity it is before it signs anyone in (login CSRF).
   */
  async pickUpIdpInitiated(ctx: Context, details: Details): Promise<boolean> {
    const ticket = ctx.cookies.get(ticketCookie, { signed: true });
    const row = ticket ? await this.#requests.findTicket(ticket) : null;
    const connection = row?.connection_id ? await this.#deps.platform.findConnection(row.connection_id) : null;
    if (!row || !connection?.active || connection.planDisabledAt) {
      if (ticket) ctx.cookies.set(ticketCookie, null, { path: '/interaction' });
      return false;
    }
    ctx.type = 'html';
    ctx.body = idpInitiatedPage(this.flow.action(details, 'sso/ticket'), this.flow.csrfOf(details), row.outcome!.email, connection.name);
    return true;
  }

  /** The person's answer to that page: continue as the IdP's identity, or sign in another way. */
  async confirmIdpInitiated(ctx: Context, details: Details, accepted: boolean): Promise<void> {
    const ticket = ctx.cookies.get(ticketCookie, { signed: true });
    ctx.cookies.set(ticketCookie, null, { path: '/interaction' });
    const row = ticket ? await this.#deps.db.withoutOrg((em) => this.#requests.takeOutcome(em, ticket, null)) : null;
    if (accepted && row) return this.#signIn(ctx, details, row);
    if (accepted) throw new InteractionError(400, 'This sign-in from your identity provider has expired. Start again from the application.');
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(details.uid)}`);
  }

  async #signIn(ctx: Context, details: Details, row: SsoRequestRow): Promise<void> {
    const profile = row.outcome!;
    if (!row.connection_id) {
      const userId = await platformSignInUser(this.#deps, row.provider, profile);
      await this.flow.remember(details, userId, ssoAmr);
      return this.flow.chooseOrg(ctx, details, userId);
    }
    const connection = await this.#deps.platform.findConnection(row.connection_id);
    if (!connection?.active) throw new InteractionError(403, 'This SSO connection is no longer active. Contact your administrator.');
    // Kept through a downgrade but not usable: checked last, before anything is provisioned.
    if (connection.planDisabledAt) throw new InteractionError(403, ssoDisabledByPlan);
    // Checked before provisioning: a refused sign-in leaves no membership behind.
    const named = details.params.organization;
    if (typeof named === 'string' && named && named !== connection.orgId && named !== (await this.#deps.platform.orgSlug(connection.orgId))) {
      throw new InteractionError(403, 'Your company account signs you in to another organization than the one this application asked for.');
    }
    const { userId } = await provisionSsoLogin(this.#deps.db, connection, profile, requestMeta(ctx), this.#plans);
    await this.flow.finish(ctx, details, userId, connection.orgId, { connectionId: connection.id, orgId: connection.orgId });
  }
}
