import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config/config.schema.ts';
import { databaseOptions, openDatabase } from '../db/orm.ts';
import { AppError } from '../errors.ts';
import { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import { ApiKeysService } from '../modules/api-keys/api-keys.service.ts';
import { createOrganization } from '../modules/orgs/orgs.service.ts';
import { hashPassword } from '../modules/users/password.ts';
import { email, name } from '../http/schemas.ts';
import { checkedArgs } from './args.ts';

const input = z.object({
  orgName: name,
  ownerEmail: email,
  ownerPassword: z.string().min(12, 'at least 12 characters').max(1024),
  json: z.boolean(),
});

const systemMeta = { ip: null, userAgent: 'gatehouse bootstrap', requestId: null };

/** `gatehouse bootstrap`: the first org, its owner, and an owner API key for the management API. */
export async function bootstrap(config: Config, logger: Logger, raw: Record<string, unknown>): Promise<number> {
  const args = checkedArgs(input, raw);
  if (!args) return 2;
  const db = await openDatabase(databaseOptions(config, logger));
  try {
    const passwordHash = await hashPassword(args.ownerPassword);
    const tokens = new ApiKeyTokens(config.secretKey);
    // One transaction: the owner, the org and the key exist together or not at all.
    const { org, ownerId, then: key } = await createOrganization(db, {
      name: args.orgName,
      owner: { source: 'bootstrap', newUser: { email: args.ownerEmail, name: null, passwordHash } },
      principal: null,
      meta: systemMeta,
    }, (scope, _org, userId) => new ApiKeysService(scope, tokens).create({ name: 'bootstrap', role: 'owner' }, userId));
    const result = { orgId: org.id, userId: ownerId, apiKey: key.key };
    console.log(args.json ? JSON.stringify(result) : `org ${org.id} (${org.slug})\nowner ${ownerId} <${args.ownerEmail}>\nAPI key (shown once): ${key.key}`);
    return 0;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    console.error(`${err.code}: ${err.detail}`);
    return 1;
  } finally {
    await db.close();
  }
}
