import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import { createApp } from '../app.ts';
import { AppError } from '../errors.ts';
import { disableUser, enableUser } from '../oidc/account-revocation.ts';
import { UsersRepository } from '../modules/users/users.repository.ts';

/**
 * `gatehouse users disable|enable --email E`: the platform operator's switch for one person in
 * every org. Disabling ends their sessions and tokens at once (back-channel logout included), so
 * it runs with the whole app (issuer and all), without listening.
 */
export async function usersCommand(config: Config, logger: Logger, action: 'disable' | 'enable', email: string): Promise<number> {
  const app = await createApp(config, logger);
  try {
    const { db, platform } = app.services;
    const user = await db.withoutOrg((em) => new UsersRepository(em).findByEmail(email));
    if (!user) {
      console.error(`no user with the email ${email}`);
      return 1;
    }
    const deps = { db, platform, provider: () => app.issuer.provider, logger };
    await (action === 'disable' ? disableUser(deps, user.id) : enableUser(deps, user.id));
    logger.info({ userId: user.id, action }, 'user updated');
    console.log(`user ${user.id} ${action}d`);
    return 0;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    console.error(err.detail);
    return 1;
  } finally {
    await app.close();
  }
}
