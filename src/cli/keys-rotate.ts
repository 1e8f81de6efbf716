import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import { SecretBox } from '../crypto/secret-box.ts';
import { databaseOptions, openDatabase } from '../db/orm.ts';
import { maxSignedTokenLifetimeSeconds, SigningKeys } from '../oidc/signing-keys.ts';

/**
 * `gatehouse keys rotate [--json]`: new signing keys, published at once and signing after
 * keyPropagationSeconds; the replaced keys stay published until every token they signed expired.
 */
export async function rotateKeysCommand(config: Config, logger: Logger, json: boolean): Promise<number> {
  const db = await openDatabase(databaseOptions(config, logger));
  try {
    const rotation = await new SigningKeys(db, new SecretBox(config.secretKey)).rotate({
      propagationSeconds: config.keyPropagationSeconds,
      maxTokenLifetimeSeconds: maxSignedTokenLifetimeSeconds,
    });
    logger.info({ keys: rotation.keys.map((k) => k.kid), retiring: rotation.retiring.map((k) => k.kid), removed: rotation.removed }, 'signing keys rotated');
    if (json) {
      console.log(JSON.stringify(rotation));
      return 0;
    }
    for (const key of rotation.keys) console.log(`new ${key.alg} key ${key.kid}: published now, signs from ${key.activatesAt.toISOString()}`);
    for (const key of rotation.retiring) console.log(`${key.alg} key ${key.kid}: signs until its successor does, published until ${key.retiresAt.toISOString()}`);
    for (const kid of rotation.removed) console.log(`key ${kid}: removed`);
    return 0;
  } finally {
    await db.close();
  }
}
