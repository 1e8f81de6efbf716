import type { Context } from 'koa';
import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { defineRoute, type HandlerResult, type RouteSpec } from '../../http/route.ts';
import { orgParams } from '../../http/schemas.ts';
import { ForbiddenError } from '../../errors.ts';
import type { OrgScope, Principal } from '../scope.ts';
import { CodeRefused, mfaDeps, MfaService } from './mfa.service.ts';
import { problemBody } from '../../http/problem.ts';

const codeBody = z.strictObject({ code: z.string().trim().min(1).max(64) });
const refusedCode = { 400: { description: 'The code is not valid (the attempt counts towards the limit of 5 per 15 minutes)', schema: null } };

/**
 * Two-step verification is the person's own: only their access token may change it. An API key
 * speaks for its creator but is not them signing in, and a service account is nobody.
 */
function userOf(ctx: Context): string {
  const principal = ctx.state.principal as Principal;
  if (principal.credential.type !== 'access_token' || !principal.userId) {
    throw new ForbiddenError('mfa.user_token_required', 'Two-step verification can be changed only with the person\'s own access token from signing in, not with an API key or a service account.');
  }
  return principal.userId;
}

/**
 * A refused code answers as any problem would, but is returned rather than thrown: the org
 * transaction must commit so that the failed attempt stays counted.
 */
function refused(ctx: Context, err: CodeRefused): HandlerResult {
  return {
    status: err.status,
    type: 'application/problem+json',
    body: problemBody(err, ctx.state.requestId),
  };
}

/** The caller's own second factor, under their org's path (the API's principal always has an org); audited in that org. */
export function mfaRoutes({ config, secrets }: ApiServices): RouteSpec[] {
  const deps = mfaDeps(config, secrets);
  const service = (ctx: Context) => new MfaService((ctx.state.scope as OrgScope).em, deps, ctx.state.scope as OrgScope);
  return [
    defineRoute({
      method: 'post', path: '/orgs/:orgId/me/totp', zone: 'org', tag: 'two-step verification',
      summary: 'Start enrolling an authenticator app (user access tokens only); replaces an enrolment still waiting for its code',
      params: orgParams,
      responses: { 201: { description: 'The secret to add to the app (base32) and its otpauth:// URI; confirm with a code', schema: z.object({ secret: z.string(), otpauthUri: z.string() }) } },
      handler: async ({ ctx }) => ({ status: 201, body: await service(ctx).startEnrolment(userOf(ctx)) }),
    }),
    defineRoute({
      method: 'post', path: '/orgs/:orgId/me/totp/confirm', zone: 'org', tag: 'two-step verification',
      summary: 'Turn two-step verification on with the app\'s first code; the recovery codes are shown once',
      params: orgParams,
      body: codeBody,
      responses: { 200: { description: 'On; `recoveryCodes` are never shown again', schema: z.object({ recoveryCodes: z.array(z.string()) }) }, ...refusedCode },
      handler: async ({ body, ctx }) => {
        const codes = await service(ctx).confirmEnrolment(userOf(ctx), body.code);
        return codes instanceof CodeRefused ? refused(ctx, codes) : { status: 200, body: { recoveryCodes: codes } };
      },
    }),
    defineRoute({
      method: 'delete', path: '/orgs/:orgId/me/totp', zone: 'org', tag: 'two-step verification',
      summary: 'Turn two-step verification off, with a current code or a recovery code',
      params: orgParams,
      body: codeBody,
      responses: { 204: { description: 'Off; the secret and recovery codes are deleted', schema: null }, ...refusedCode },
      handler: async ({ body, ctx }) => {
        const outcome = await service(ctx).disable(userOf(ctx), body.code);
        return outcome instanceof CodeRefused ? refused(ctx, outcome) : { status: 204 };
      },
    }),
  ];
}
