import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import { SecretBox } from '../crypto/secret-box.ts';
import { databaseOptions, openDatabase } from '../db/orm.ts';
import { AppError } from '../errors.ts';
import { createPlatformClient } from '../oidc/clients.service.ts';

/** `gatehouse clients create --name N --redirect-uri U [--post-logout-uri U] [--backchannel-logout-uri U] [--public] [--json]` */
export async function clientsCreate(config: Config, logger: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-uri': { type: 'string', multiple: true },
      'backchannel-logout-uri': { type: 'string' },
      public: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const db = await openDatabase(databaseOptions(config, logger));
  try {
    const created = await createPlatformClient(db, new SecretBox(config.secretKey), {
      name: values.name ?? '',
      redirectUris: values['redirect-uri'] ?? [],
      postLogoutRedirectUris: values['post-logout-uri'] ?? [],
      backchannelLogoutUri: values['backchannel-logout-uri'],
      public: values.public ?? false,
    });
    logger.info({ clientId: created.clientId, name: values.name }, 'client created');
    console.log(values.json ? JSON.stringify(created) : `client ${created.clientId}${created.clientSecret ? `\nsecret (shown once): ${created.clientSecret}` : ' (public: PKCE, no secret)'}`);
    return 0;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    for (const e of err.errors ?? [{ field: err.code, message: err.detail }]) console.error(`${e.field}: ${e.message}`);
    return 2;
  } finally {
    await db.close();
  }
}
