import type { Context } from 'koa';
import { z } from 'zod';
import { NotFoundError } from '../../errors.ts';
import type { ApiServices } from '../../http/api-services.ts';
import { runInOrg } from '../../http/org-context.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import type { Principal } from '../scope.ts';
import { AuthorizationService } from './authorize.service.ts';

const uuid = z.uuid().transform((id) => id.toLowerCase());

const subject = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('user'), id: uuid }),
  z.strictObject({ type: z.literal('service_account'), id: uuid }),
  // The key id of gh_<keyid>_<secret>, as X-Gatehouse-Credential names it: never the secret.
  z.strictObject({ type: z.literal('api_key'), id: z.string().regex(/^[0-9a-f]{16}$/, 'an API key id (16 hex digits), not the key') }),
]);

const question = z.strictObject({
  orgId: uuid,
  subject,
  permission: z.string().min(1).max(100),
  workspaceId: uuid.optional(),
  teamId: uuid.optional(),
});

const decision = z.object({ allowed: z.boolean(), reason: z.string(), role: z.string().nullable() });

/**
 * Tenancy lock 1 for a body's org: the caller's credential must be of that org; another org's
 * answers 404, exactly as an org that does not exist (as every cross-org request does).
 */
function orgOfCaller(ctx: Context, orgId: string): string {
  const principal = ctx.state.principal as Principal | undefined;
  if (!principal?.orgId || principal.orgId !== orgId) throw new NotFoundError('org.not_found', 'Organization not found.');
  return principal.orgId;
}

// Platform keys are refused (403, the `principal` zone): the decision is about one org's members,
// read under that org's row-level security, and a platform key belongs to no org.
export function authorizeRoutes(services: ApiServices): RouteSpec[] {
  return [
    defineRoute({
      method: 'post', path: '/authorize', zone: 'principal', tag: 'authorization',
      summary: 'Whether a subject may perform a permission in an org, optionally in a workspace or on a team-owned resource',
      body: question,
      responses: { 200: { description: 'The decision (allowed: false for a subject that cannot act in the org now)', schema: decision } },
      handler: async ({ body, ctx }) => {
        const orgId = orgOfCaller(ctx, body.orgId);
        const answer = await runInOrg(services.db, orgId, ctx, (scope) => new AuthorizationService(scope, services.productPermissions).decide(body));
        return { status: 200, body: answer };
      },
    }),
  ];
}
