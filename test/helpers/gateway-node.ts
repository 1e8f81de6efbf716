import pino from 'pino';
import { Notifications, type ListenTarget } from '../../src/db/notifications.ts';
import { ApiKeyUsage } from '../../src/gateway/api-key-usage.ts';
import { GatewayCredentials, type GatewayCredentialsOptions } from '../../src/gateway/credentials.ts';
import { gatewayChannel, GatewayKeys } from '../../src/gateway/gateway-keys.ts';
import { noProductPermissions, type ProductPermissions } from '../../src/modules/roles/product-permissions.ts';
import { gatewayResource, issuerUrl } from '../../src/oidc/provider.ts';
import type { Database } from '../../src/db/database.ts';
import type { TestApp } from './app.ts';

const log = pino({ level: 'silent' });

export interface GatewayNode {
  notifications: Notifications;
  keys: GatewayKeys;
  credentials: GatewayCredentials;
  usage: ApiKeyUsage;
  stop(): Promise<void>;
}

/**
 * One gateway node's credential side on the test app's database: its own listening connection,
 * keys and caches, built directly (no proxy). Two of these act as two nodes.
 */
export async function gatewayNode(t: TestApp, opts: GatewayCredentialsOptions & { listen?: boolean; product?: ProductPermissions; keysDb?: Pick<Database, 'withoutOrg'>; target?: ListenTarget; minBackoffMs?: number } = {}): Promise<GatewayNode> {
  const notifications = new Notifications(opts.target ?? t.db.listenTarget, log, { minBackoffMs: opts.minBackoffMs ?? 10 });
  const { db, platform, apiKeyTokens, secrets } = t.app.services;
  const keys = await GatewayKeys.start({ db: opts.keysDb ?? db, secrets, notifications, logger: log, issuer: issuerUrl(t.config) });
  const usage = new ApiKeyUsage(platform, log);
  const credentials = new GatewayCredentials({
    platform, apiKeyTokens, keys, audience: gatewayResource(t.config), productPermissions: opts.product ?? noProductPermissions, notifications, usage,
  }, opts);
  if (opts.listen !== false) {
    await notifications.start();
    const deadline = Date.now() + 5000;
    while (!notifications.listening(gatewayChannel)) {
      if (Date.now() > deadline) throw new Error('the gateway node never listened');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  return {
    notifications, keys, credentials, usage,
    async stop() {
      credentials.stop();
      keys.stop();
      await notifications.stop();
    },
  };
}

/** Waits until `condition` holds; fails after `timeoutMs` (revocation must reach a node within a second). */
export async function within(timeoutMs: number, condition: () => Promise<boolean> | boolean, what: string): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}
