import http, { type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import type { Database } from '../db/database.ts';
import type { Notifications } from '../db/notifications.ts';
import type { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { gatewayResource, issuerUrl } from '../oidc/provider.ts';
import { ApiKeyUsage } from './api-key-usage.ts';
import { AssertionSigner } from './assertion.ts';
import { GatewayCredentials } from './credentials.ts';
import { DenialLog } from './denials.ts';
import type { PlanCatalog } from '../modules/billing/plans.ts';
import { GatewayKeys } from './gateway-keys.ts';
import { GatewayProxy } from './proxy.ts';
import { PlanRateLimits } from './plan-rate-limits.ts';
import { TokenBuckets } from './rate-limit.ts';
import type { RoutePolicyFile } from './route-policy-file.ts';
import { Upstream } from './upstream.ts';

// The gateway listener (DESIGN.md): authenticate, authorize, proxy to UPSTREAM_URL with the
// caller's identity. A raw node:http server, not Koa: the hot path is hand-written (proxy.ts).
export interface GatewayDeps {
  config: Config;
  logger: Logger;
  db: Database;
  platform: PlatformRepository;
  apiKeyTokens: ApiKeyTokens;
  secrets: SecretBox;
  /** This node's listening connection; the gateway subscribes its caches before it starts. */
  notifications: Notifications;
  routes: RoutePolicyFile;
  /** With billing on: per-org and per-key rate limits follow each org's plan (plan-rate-limits.ts). */
  plans?: PlanCatalog;
}

export interface Gateway {
  listen(port?: number): Promise<Server>;
  close(): Promise<void>;
}

// Slow-loris bounds: the head within 15 s; a whole request (a large upload) within 5 minutes.
const headersTimeoutMs = 15_000;
const requestTimeoutMs = 300_000;
// On close, requests in flight get this long to finish; then every connection (streams and
// WebSockets included) is cut.
const closeGraceMs = 3_000;

export async function createGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, logger } = deps;
  if (!config.upstreamUrl) throw new Error('the gateway needs UPSTREAM_URL');
  const audience = gatewayResource(config);
  const issuer = issuerUrl(config);
  const keys = await GatewayKeys.start({ db: deps.db, secrets: deps.secrets, notifications: deps.notifications, logger, issuer });
  const usage = new ApiKeyUsage(deps.platform, logger);
  const credentials = new GatewayCredentials({
    platform: deps.platform, apiKeyTokens: deps.apiKeyTokens, keys, audience,
    productPermissions: deps.routes, notifications: deps.notifications, usage,
  });
  const denials = new DenialLog({ db: deps.db, logger });
  const upstream = new Upstream({ url: new URL(config.upstreamUrl), timeoutMs: config.gatewayUpstreamTimeoutMs, logger });
  const proxy = new GatewayProxy({
    routes: deps.routes,
    credentials,
    assertions: new AssertionSigner(keys, { issuer, audience }),
    orgLimits: deps.plans
      ? new PlanRateLimits({ db: deps.db, plans: deps.plans, logger, limit: 'orgRateLimit', configRate: config.gatewayOrgRateLimit })
      : new TokenBuckets(config.gatewayOrgRateLimit),
    keyLimits: deps.plans
      ? new PlanRateLimits({ db: deps.db, plans: deps.plans, logger, limit: 'keyRateLimit', configRate: config.gatewayKeyRateLimit })
      : new TokenBuckets(config.gatewayKeyRateLimit),
    failedAuthLimits: new TokenBuckets(config.gatewayFailedAuthRateLimit),
    denials,
    upstream,
    headers: { upstreamHost: upstream.host, forwardAuthorization: config.gatewayForwardAuthorization, trustProxy: config.trustProxy },
    logger,
  });

  const servers: Server[] = [];
  // Upgraded sockets leave the HTTP server's bookkeeping: closeAllConnections does not see them.
  const upgraded = new Set<Socket>();
  let started = false;
  return {
    listen(port = config.gatewayPort) {
      if (!started) {
        started = true;
        usage.start();
        denials.start();
      }
      return new Promise((resolve, reject) => {
        // maxHeaderSize stays Node's 16 KB: larger heads get Node's 431.
        const server = http.createServer({ headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs }, proxy.handleRequest);
        server.on('upgrade', (req, socket: Socket, head: Buffer) => {
          upgraded.add(socket);
          socket.once('close', () => upgraded.delete(socket));
          proxy.handleUpgrade(req, socket, head);
        });
        servers.push(server);
        server.once('error', reject);
        server.listen(port, config.host, () => {
          server.off('error', reject);
          server.on('error', (err) => logger.error({ err }, 'gateway listener failed'));
          resolve(server);
        });
      });
    },
    async close() {
      // Stop accepting; idle keep-alive connections go now, busy ones when their answer is done.
      const cut = setTimeout(() => {
        for (const s of servers) s.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }, closeGraceMs);
      await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeIdleConnections(); })));
      clearTimeout(cut);
      upstream.close();
      credentials.stop();
      await Promise.all([usage.stop(), denials.stop()]);
      keys.stop();
    },
  };
}
