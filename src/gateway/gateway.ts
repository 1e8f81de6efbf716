import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import type { Database } from '../db/database.ts';
import type { Notifications } from '../db/notifications.ts';
import type { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { RoutePolicyFile } from './route-policy-file.ts';

// STUB (helper "proxy" replaces this file): the gateway listener (DESIGN.md): authenticate,
// authorize, proxy to UPSTREAM_URL with the caller's identity.
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
}

export interface Gateway {
  listen(port?: number): Promise<Server>;
  close(): Promise<void>;
}

export async function createGateway(_deps: GatewayDeps): Promise<Gateway> {
  throw new Error('not implemented');
}
