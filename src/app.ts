import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.ts';
import { SecretBox } from './crypto/secret-box.ts';
import { databaseOptions, openDatabase } from './db/orm.ts';
import type { Database } from './db/database.ts';
import { Notifications } from './db/notifications.ts';
import { mountRoutes } from './http/api.ts';
import type { ApiServices } from './http/api-services.ts';
import { authenticate } from './http/authenticate.ts';
import { openApiDocument } from './http/openapi.ts';
import { problemDetails } from './http/problem.ts';
import { requestContext } from './http/request-context.ts';
import { apiRoutes } from './http/routes.ts';
import { ApiKeyTokens } from './modules/api-keys/api-key-token.ts';
import { txtResolver } from './modules/domains/dns-txt.ts';
import { Mailer } from './modules/mail/mailer.ts';
import { appOutboxDispatcher } from './modules/mail/outbox.dispatcher.ts';
import { PlatformRepository } from './modules/platform/platform.repository.ts';
import { ExpirySweeper } from './oidc/expiry-sweeper.ts';
import { applyPlanEffects } from './modules/billing/plan-effects.ts';
import { RetentionJob } from './modules/billing/retention.job.ts';
import { PlanEffectsJob } from './modules/billing/plan-effects.job.ts';
import { MetadataRefresher } from './modules/connections/metadata-refresher.ts';
import { EnterpriseSsoHook } from './oidc/interactions/enterprise-sso.ts';
import { interactionRoutes } from './oidc/interactions/interactions.routes.ts';
import { mfaInteractionRoutes } from './oidc/interactions/mfa.routes.ts';
import { invitationRoutes } from './oidc/interactions/invitation.routes.ts';
import { passwordResetRoutes } from './oidc/interactions/password-reset.routes.ts';
import { signUpRoutes } from './oidc/interactions/signup.routes.ts';
import { Issuer } from './oidc/issuer.ts';
import { samlEdge, samlRoutes } from '../saml/saml.routes.ts';
import { scimRoutes } from '../scim/scim.routes.ts';
import { DirectorySyncService } from './modules/directory-sync/directory-sync.service.ts';
import { SamlReplayCache } from './federation/saml-replay-cache.repository.ts';
import type { SsoDeps } from './federation/sso-edge.ts';
import { SsoLogins } from './federation/sso-logins.ts';
import { SsoRequestsRepository } from './federation/sso-requests.repository.ts';
import { ssoRoutes } from './federation/sso.routes.ts';
import { ssoTestRoutes } from './federation/sso-tests.ts';
import { homeRealmDiscovery } from './federation/home-realm.ts';
import { upstreamOidcEdge, upstreamOidcRoutes } from './federation/upstream-oidc.ts';
import { platformSignInRoutes } from './federation/platform-sign-in.ts';
import { cookieKeys, managementApiResource } from './oidc/provider.ts';
import { ServiceAccountClients } from './oidc/service-account-clients.ts';
import { SigningKeys } from './oidc/signing-keys.ts';
import { noProductPermissions } from './modules/roles/product-permissions.ts';
import { RoutePolicyFile } from './gateway/route-policy-file.ts';
import { createGateway, type Gateway } from './gateway/gateway.ts';
import { ApiKeyUsage } from './gateway/api-key-usage.ts';
import { PlanCatalog } from './modules/billing/plans.ts';
import { createStripeClient } from './modules/billing/stripe-client.ts';
import { StripeWebhook } from './modules/billing/stripe-webhook.ts';
import { stripeWebhookRoutes } from './modules/billing/stripe-webhook.routes.ts';
import { adminRoutes } from './admin/admin.routes.ts';
import { platformConsoleRoutes } from './admin/platform.routes.ts';

export interface App {
  services: ApiServices;
  issuer: Issuer;
  /** The email step's hand-off to enterprise SSO (set by the SSO feature). */
  enterpriseSso: EnterpriseSsoHook;
  /** Re-fetches SAML IdP metadata URLs and reports expiring IdP certificates (tests call refreshOnce). */
  metadataRefresher: MetadataRefresher;
  notifications: Notifications;
  /** The gateway listener (UPSTREAM_URL set), not yet listening: `serve` and tests start it. */
  gateway: Gateway | undefined;
  /** The management API's API key usage counts (tests call flushOnce). */
  apiKeyUsage: ApiKeyUsage;
  /** Deletes audit events past each org's plan retention (tests call runOnce). */
  retention: RetentionJob;
  /** Applies plan changes no webhook announces (a grace period ending); tests call runOnce. */
  planEffects: PlanEffectsJob;
  koa: Koa;
  listen(port?: number): Promise<Server>;
  close(): Promise<void>;
}

/** The one composition root: every long-lived object is made here and passed down. */
export async function createApp(config: Config, logger: Logger, db?: Database): Promise<App> {
  // The plans first: a bad plans file stops start-up before anything is opened.
  const plans = PlanCatalog.load(config);
  const database = db ?? (await openDatabase(databaseOptions(config, logger)));
  // The route policy: the gateway enforces it; custom roles may hold the permissions it declares.
  const routePolicy = config.routesFile ? await RoutePolicyFile.open(config.routesFile, logger) : undefined;
  const services: ApiServices = {
    config,
    db: database,
    apiKeyTokens: new ApiKeyTokens(config.secretKey),
    platform: new PlatformRepository(database),
    mailer: new Mailer(),
    secrets: new SecretBox(config.secretKey),
    dns: txtResolver(config),
    productPermissions: routePolicy ?? noProductPermissions,
    plans,
    billing: config.stripeSecretKey !== undefined,
    stripe: createStripeClient(config),
  };

  const koa = new Koa({ proxy: config.trustProxy });
  koa.silent = true;
  koa.keys = cookieKeys(config);
  koa.use(requestContext(logger));

  const health = new Router();
  health.get('/healthz', (ctx) => { ctx.body = { status: 'ok' }; });
  health.get('/readyz', async (ctx) => {
    try {
      await database.ping();
      ctx.body = { status: 'ready' };
    } catch (err) {
      ctx.state.log.warn({ err }, 'database not reachable');
      ctx.status = 503;
      ctx.body = { status: 'database unreachable' };
    }
  });
  koa.use(health.routes());

  // Changes other nodes make, heard over LISTEN/NOTIFY, empty this node's caches (DESIGN.md).
  const notifications = new Notifications(database.listenTarget, logger);
  const serviceAccountClients = new ServiceAccountClients({ platform: services.platform, secrets: services.secrets, notifications });
  // The OIDC issuer; the management API also accepts its JWT access tokens.
  const issuer = await Issuer.start({ ...services, serviceAccountClients }, new SigningKeys(database, services.secrets), logger);

  const routes = apiRoutes(services);
  const api = new Router({ prefix: '/api/v1' });
  api.get('/openapi.json', (ctx) => { ctx.body = openApiDocument(routes, `${config.publicUrl}/api/v1`); });
  const apiResource = managementApiResource(config);
  // Uses of API keys, counted in memory and written in batches (the gateway keeps its own).
  const apiKeyUsage = new ApiKeyUsage(services.platform, logger);
  mountRoutes(api, routes, {
    db: database,
    authenticate: authenticate({
      ...services,
      apiKeyUsage,
      verifyAccessToken: (token) => issuer.verifyAccessToken(token, apiResource),
      findServiceAccount: (clientId) => serviceAccountClients.find(clientId),
    }),
  });
  // Problems for everything under /api, unknown paths included (not Koa's plain 404).
  const problems = problemDetails();
  koa.use((ctx, next) => (ctx.path.startsWith('/api/') ? problems(ctx, next) : next()));
  const parseJson = bodyParser({ enableTypes: ['json'], jsonLimit: config.bodyLimit, encoding: 'utf-8', parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] });
  koa.use((ctx, next) => (ctx.path.startsWith('/api/') ? parseJson(ctx, next) : next()));
  koa.use(api.routes()).use(api.allowedMethods({ throw: true }));
  // Stripe webhooks, outside /api: the signature covers the raw body, so no parser may run first.
  // Billing off: not mounted (404).
  if (services.stripe && config.stripeWebhookSecret) {
    const webhook = new StripeWebhook({
      db: database, stripe: services.stripe, logger, plans: services.plans, graceDays: config.billingGraceDays,
      onPlanChange: applyPlanEffects,
    });
    koa.use(stripeWebhookRoutes({ stripe: services.stripe, secret: config.stripeWebhookSecret, webhook }).routes());
  }

  // The OIDC issuer at /oidc (oidc-provider parses its own requests).
  koa.use(issuer.middleware());
  // The web console at /admin: a client of the issuer above and of the API, on this node's own listener.
  let selfUrl: string | undefined;
  const consoleSelfUrl = () => {
    if (!selfUrl) throw new Error('the console needs the app to listen first');
    return selfUrl;
  };
  koa.use(adminRoutes({
    config, logger,
    selfUrl: consoleSelfUrl,
    verifyAccessToken: (token) => issuer.verifyAccessToken(token, apiResource),
  }).routes());
  // The platform operators' view at /admin/platform: signed in with a platform API key.
  koa.use(platformConsoleRoutes({ config, db: database, selfUrl: consoleSelfUrl }).routes());
  // Enterprise SSO: home-realm discovery at the email step, the protocol edges (SAML ACS,
  // upstream OIDC callbacks) and their hand-off back into the hosted sign-in.
  const interactionDeps = { config, db: database, platform: services.platform, issuer };
  const ssoRequests = new SsoRequestsRepository(database);
  const logins = new SsoLogins(interactionDeps, ssoRequests, services);
  const enterpriseSso = new EnterpriseSsoHook();
  enterpriseSso.use(homeRealmDiscovery(services.platform), (ctx, details) => logins.pickUpIdpInitiated(ctx, details));
  koa.use(interactionRoutes(interactionDeps, enterpriseSso).routes());
  koa.use(mfaInteractionRoutes({ config, db: database, platform: services.platform, issuer, secrets: services.secrets }).routes());
  // Hosted account pages beside the sign-in: password reset, sign-up (when on), invitation links.
  koa.use(passwordResetRoutes({ config, db: database, platform: services.platform, issuer, mailer: services.mailer }).routes());
  koa.use(signUpRoutes({ config, db: database, platform: services.platform, issuer }).routes());
  koa.use(invitationRoutes({ config, db: database, platform: services.platform, plans: services.plans, billing: services.billing }).routes());
  const sso: SsoDeps = {
    config, db: database, platform: services.platform, secrets: services.secrets, logger,
    requests: ssoRequests, replayCache: new SamlReplayCache(database), logins,
  };
  koa.use(samlRoutes(sso).routes());
  koa.use(upstreamOidcRoutes(sso).routes());
  koa.use(platformSignInRoutes(sso, { config, db: database, platform: services.platform, issuer }).routes());
  koa.use(ssoRoutes(sso, { saml: samlEdge(sso), oidc: upstreamOidcEdge(sso) }).routes());
  koa.use(ssoTestRoutes(sso, { saml: samlEdge(sso), oidc: upstreamOidcEdge(sso) }).routes());
  // SCIM 2.0 per directory: the customer's IdP pushes users and groups (scim/).
  const scim = scimRoutes({ config, db: database, apiKeyTokens: services.apiKeyTokens, logger, sync: new DirectorySyncService({ db: database, plans: services }) });
  koa.use(scim.routes());
  // Expired OIDC artifacts are deleted in the background by every node (SKIP LOCKED batches).
  const sweeper = new ExpirySweeper({ db: database, logger });
  // Audit events past each org's plan retention, likewise (a checkpoint keeps the chain verifiable).
  const retention = new RetentionJob({
    db: database, logger, plans: services.plans, billing: services.billing, downgradeDays: config.retentionDowngradeDays,
  });
  // Plan changes without a webhook (a grace period that ended): effects applied, audited once.
  const planEffects = new PlanEffectsJob({ db: database, logger, plans: services.plans, billing: services.billing });
  const metadataRefresher = new MetadataRefresher({
    db: database, platform: services.platform, logger, publicUrl: config.publicUrl, intervalMs: config.metadataRefreshMinutes * 60_000,
  });

  // Mail outbox: delivered in the background by every serving node (SKIP LOCKED shares the
  // work). Tests drive their own dispatcher with drainOnce(), so a test app never polls: parallel
  // test files on one database would otherwise send each other's mail.
  const outbox = appOutboxDispatcher(config, database, logger);

  // The identity-aware gateway in front of the product API (src/gateway/).
  const gateway = config.upstreamUrl && routePolicy
    ? await createGateway({ config, logger, db: database, platform: services.platform, apiKeyTokens: services.apiKeyTokens, secrets: services.secrets, notifications, routes: routePolicy, ...(services.billing ? { plans: services.plans } : {}) })
    : undefined;

  // Last, so that nothing above can fail with the listening connection open.
  await notifications.start();

  const servers: Server[] = [];
  return {
    services,
    issuer,
    enterpriseSso,
    metadataRefresher,
    notifications,
    gateway,
    apiKeyUsage,
    retention,
    planEffects,
    koa,
    listen(port = config.port) {
      if (config.env !== 'test') outbox.start();
      apiKeyUsage.start();
      issuer.watch(10);
      if (config.env !== 'test') sweeper.start();
      if (config.env !== 'test') retention.start();
      if (config.env !== 'test') planEffects.start();
      if (config.env !== 'test') metadataRefresher.start();
      return new Promise((resolve, reject) => {
        const server = koa.listen(port, config.host, () => {
          selfUrl ??= loopbackUrl(server, config.host);
          resolve(server);
        }).on('error', reject);
        server.requestTimeout = 30_000;
        servers.push(server);
      });
    },
    async close() {
      await gateway?.close();
      await apiKeyUsage.stop();
      routePolicy?.close();
      await outbox.stop();
      issuer.stop();
      await sweeper.stop();
      await retention.stop();
      await planEffects.stop();
      await metadataRefresher.stop();
      await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeIdleConnections(); })));
      await notifications.stop();
      if (!db) await database.close();
    },
  };
}

/** How this node reaches its own listener: loopback unless it listens on one address only. */
function loopbackUrl(server: Server, host: string | undefined): string {
  const { port } = server.address() as AddressInfo;
  const address = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
