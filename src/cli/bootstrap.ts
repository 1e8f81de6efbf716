import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config/config.schema.ts';
import { openDatabase } from '../db/orm.ts';
import { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import { ApiKeysService } from '../modules/api-keys/api-keys.service.ts';
import { createOrganization } from '../modules/orgs/orgs.service.ts';
import { OrgScope } from '../modules/scope.ts';
import { hashPassword } from '../modules/users/password.ts';
import { UsersRepository } from '../modules/users/users.repository.ts';
import { email, name } from '../http/schemas.ts';

const input = z.object({
  orgName: name,
  ownerEmail: email,
  ownerPassword: z.string().min(12, 'at least 12 characters').max(1024),
  json: z.boolean(),
});

const systemMeta = { ip: null, userAgent: 'gatehouse bootstrap', requestId: null };

/** `gatehouse bootstrap`: the first org, its owner, and an owner API key for the management API. */
export async function bootstrap(config: Config, logger: Logger, raw: Record<string, unknown>): Promise<number> {
  const parsed = input.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`${String(issue.path[0])}: ${issue.message}`);
    return 2;
  }
  const args = parsed.data;
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    const passwordHash = await hashPassword(args.ownerPassword);
    const user = await db.withoutOrg(async (em) => {
      const users = new UsersRepository(em);
      if (await users.findByEmail(args.ownerEmail)) return null;
      return users.create({ email: args.ownerEmail, name: null, passwordHash });
    });
    if (!user) {
      console.error(`ownerEmail: a user with ${args.ownerEmail} already exists`);
      return 1;
    }
    const org = await createOrganization(db, { name: args.orgName, owner: { userId: user.id, source: 'bootstrap' }, principal: null, meta: systemMeta });
    const key = await db.inOrg(org.id, (em) =>
      new ApiKeysService(new OrgScope(org.id, em, null, systemMeta), new ApiKeyTokens(config.secretKey)).create({ name: 'bootstrap', role: 'owner' }, user.id));
    const result = { orgId: org.id, userId: user.id, apiKey: key.key };
    console.log(args.json ? JSON.stringify(result) : `org ${org.id} (${org.slug})\nowner ${user.id} <${user.email}>\nAPI key (shown once): ${key.key}`);
    return 0;
  } finally {
    await db.close();
  }
}
