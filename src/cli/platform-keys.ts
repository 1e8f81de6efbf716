import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config/config.schema.ts';
import { databaseOptions, openDatabase } from '../db/orm.ts';
import { name } from '../http/schemas.ts';
import { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import { PlatformRepository } from '../modules/platform/platform.repository.ts';

export type PlatformKeysArgs =
  | { action: 'create'; name: string | undefined; json: boolean }
  | { action: 'revoke'; id: string | undefined };

export interface PlatformKeysDeps {
  platform: PlatformRepository;
  tokens: ApiKeyTokens;
  logger: Logger;
}

const keyId = z.string().regex(/^[0-9a-f]{16}$/, 'a platform key id: the 16 hex digits after ghp_');

/**
 * `gatehouse platform-keys create --name N [--json]` and `revoke --id ID`: the platform team's
 * credentials for the platform API. Runs on the database alone, through the platform
 * repository's named methods (the only code that may touch platform_api_keys, migration 0010).
 */
export async function platformKeysCommand(config: Config, logger: Logger, args: PlatformKeysArgs): Promise<number> {
  const db = await openDatabase(databaseOptions(config, logger));
  try {
    return await platformKeys({ platform: new PlatformRepository(db), tokens: new ApiKeyTokens(config.secretKey), logger }, args);
  } finally {
    await db.close();
  }
}

/** The command on a given database: 0 done, 1 nothing to revoke, 2 bad arguments. */
export async function platformKeys(deps: PlatformKeysDeps, args: PlatformKeysArgs): Promise<number> {
  const field = args.action === 'create' ? 'name' : 'id';
  const parsed = args.action === 'create' ? name.safeParse(args.name ?? '') : keyId.safeParse(args.id ?? '');
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`${field}: ${issue.message}`);
    return 2;
  }
  return args.action === 'create' ? create(deps, parsed.data, args.json) : revoke(deps, parsed.data);
}

/** The key is printed once, here; only a keyed hash of its secret is stored. */
async function create({ platform, tokens, logger }: PlatformKeysDeps, keyName: string, json: boolean): Promise<number> {
  const issued = tokens.issue('platform');
  await platform.createPlatformKey({ id: issued.id, name: keyName, secretHash: issued.secretHash });
  logger.info({ platformKeyId: issued.id, name: keyName }, 'platform key created');
  console.log(json ? JSON.stringify({ id: issued.id, key: issued.token }) : `platform key ${issued.id}\nkey (shown once): ${issued.token}`);
  return 0;
}

async function revoke({ platform, logger }: PlatformKeysDeps, id: string): Promise<number> {
  if (!(await platform.revokePlatformKey(id))) {
    console.error(`no active platform key with the id ${id}`);
    return 1;
  }
  logger.info({ platformKeyId: id }, 'platform key revoked');
  console.log(`platform key ${id} revoked`);
  return 0;
}
