import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../db/database.ts';
import type { Connection } from '../modules/connections/connection.entity.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import { InteractionError } from '../oidc/interactions/flow.ts';
import type { SamlReplayCache } from './saml-replay-cache.repository.ts';
import type { SsoLogins } from './sso-logins.ts';
import type { SsoRequestsRepository } from './sso-requests.repository.ts';

/** What the SSO edges (saml/, upstream OIDC, platform Google/GitHub) are given; built once in app.ts. */
export interface SsoDeps {
  config: Config;
  db: Database;
  platform: PlatformRepository;
  secrets: SecretBox;
  logger: Logger;
  requests: SsoRequestsRepository;
  replayCache: SamlReplayCache;
  logins: SsoLogins;
}

/** A protocol's start of an SP-initiated login: records the request and sends the browser to the IdP. */
export interface SsoEdge {
  /** `interactionUid`: the sign-in it is for; null with `testId`: a test sign-in (sso-tests.ts). */
  start(ctx: Context, connection: Connection, interactionUid: string | null, testId?: string): Promise<void>;
}

/**
 * An SSO step that cannot go on: shown to the person as a page with this status and message
 * (never a secret or a stack); `code` is for the log.
 */
export class SsoError extends InteractionError {
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(status, message);
    this.code = code;
  }
}

/**
 * The SSO steps' rejections: logged with their code and reason (never a secret), then shown by
 * the hosted pages' error page (flow.ts hostedPages) with their status. Nothing was provisioned:
 * provisioning happens only after an answer is taken at the browser's interaction.
 */
export function ssoRejections(): Middleware {
  return async function ssoRejection(ctx, next) {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof SsoError)) throw err;
      const cause = err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : undefined;
      ctx.state.log?.warn({ code: err.code, reason: err.message, cause, path: ctx.path }, 'SSO sign-in rejected');
      throw new InteractionError(err.status, err.message);
    }
  };
}
