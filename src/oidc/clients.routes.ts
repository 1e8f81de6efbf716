import type { Context } from 'koa';
import { z } from 'zod';
import type { ApiServices } from '../http/api-services.ts';
import type { PlatformPrincipal } from '../http/authenticate.ts';
import { cursorOf, pageQuery, pageSchema } from '../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../http/route.ts';
import { noContent, timestamp } from '../http/schemas.ts';
import { createPlatformClient, deactivatePlatformClient, getPlatformClient, listPlatformClients, newPlatformClient, platformClientId } from './clients.service.ts';

// The platform API for the issuer's platform clients (the product's own apps), for the platform
// team's keys only. These are not org events, so there is no org audit trail to write them to:
// each change is logged (who: the platform key id; what: the client id; never a secret). A
// tamper-evident trail for platform events would need a table of its own (not built yet).

export const platformClientSchema = z.object({
  clientId: z.string(),
  name: z.string(),
  public: z.boolean(),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  backchannelLogoutUri: z.string().nullable(),
  createdAt: timestamp,
});

// Any string: a malformed id answers 404 like an unknown one (the service checks the shape).
const clientParams = z.object({ clientId: z.string() });

function logPlatformAction(ctx: Context, action: string, clientId: string): void {
  const { keyId } = ctx.state.platformPrincipal as PlatformPrincipal;
  ctx.state.log.info({ platformKeyId: keyId, clientId, action }, 'platform action');
}

export function platformClientRoutes({ db, secrets }: ApiServices): RouteSpec[] {
  return [
    defineRoute({
      method: 'post', path: '/platform/clients', zone: 'platform', tag: 'platform',
      summary: 'Register an app with the OIDC issuer (platform key); a confidential client\'s secret is shown once',
      body: newPlatformClient,
      responses: { 201: { description: 'Created; `clientSecret` is never shown again (null for a public client)', schema: z.object({ clientId: z.string(), clientSecret: z.string().nullable() }) } },
      handler: async ({ body, ctx }) => {
        const created = await createPlatformClient(db, secrets, body);
        logPlatformAction(ctx, 'client.created', created.clientId);
        return { status: 201, body: created };
      },
    }),
    defineRoute({
      method: 'get', path: '/platform/clients', zone: 'platform', tag: 'platform', summary: 'List the active platform clients (platform key)',
      query: pageQuery.extend({ cursor: cursorOf(platformClientId, 'a client id').optional() }),
      responses: { 200: { description: 'A page of clients', schema: pageSchema(platformClientSchema) } },
      handler: async ({ query }) => ({ status: 200, body: await listPlatformClients(db, query) }),
    }),
    defineRoute({
      method: 'get', path: '/platform/clients/:clientId', zone: 'platform', tag: 'platform', summary: 'Get a platform client (platform key)',
      params: clientParams,
      responses: { 200: { description: 'The client', schema: platformClientSchema } },
      handler: async ({ params }) => ({ status: 200, body: await getPlatformClient(db, params.clientId) }),
    }),
    defineRoute({
      method: 'delete', path: '/platform/clients/:clientId', zone: 'platform', tag: 'platform',
      summary: 'Deactivate a platform client: the issuer refuses it at once (platform key)',
      params: clientParams,
      responses: noContent,
      handler: async ({ params, ctx }) => {
        await deactivatePlatformClient(db, params.clientId);
        logPlatformAction(ctx, 'client.deactivated', params.clientId);
        return { status: 204 };
      },
    }),
  ];
}
