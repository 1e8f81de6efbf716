import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Config } from '../config/config.schema.ts';
import type { Database } from '../src/db/database.ts';
import type { ApiKeyTokens } from '../src/modules/api-keys/api-key-token.ts';
import type { DirectorySyncService } from '../src/modules/directory-sync/directory-sync.service.ts';

export interface ScimDeps {
  config: Config;
  db: Database;
  apiKeyTokens: ApiKeyTokens;
  logger: Logger;
  sync: DirectorySyncService;
}

// STUB (issue 5 wiring): the SCIM 2.0 edge at /scim/v2/:directoryId.
export function scimRoutes(_deps: ScimDeps): Router {
  return new Router({ prefix: '/scim/v2' });
}
