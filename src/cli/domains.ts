import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../../config/config.schema.ts';
import { databaseOptions, openDatabase } from '../db/orm.ts';
import { AppError } from '../errors.ts';
import { txtResolver } from '../modules/domains/dns-txt.ts';
import { domainName } from '../modules/domains/domain-name.ts';
import { DomainsService } from '../modules/domains/domains.service.ts';
import { OrgsRepository } from '../modules/orgs/orgs.repository.ts';
import { OrgScope } from '../modules/scope.ts';
import { checkedArgs } from './args.ts';

const input = z.object({ org: z.uuid('an org id (uuid)'), domain: domainName });

const systemMeta = { ip: null, userAgent: 'gatehouse domains verify', requestId: null };

/**
 * `gatehouse domains verify --org O --domain D`: an operator marks a domain verified without
 * DNS (audited as the system, verifiedBy 'operator'). 0 done, 1 refused, 2 bad arguments.
 */
export async function domainsVerifyCommand(config: Config, logger: Logger, orgId: string, domain: string): Promise<number> {
  const args = checkedArgs(input, { org: orgId, domain });
  if (!args) return 2;
  const db = await openDatabase(databaseOptions(config, logger));
  try {
    // One transaction in the org: the claim, its verification and the audit event together.
    const result = await db.inOrg(args.org, async (em) => {
      if (!(await new OrgsRepository(em).find(args.org))) return null;
      return new DomainsService(new OrgScope(args.org, em, null, systemMeta), txtResolver(config)).verifyByOperator(args.domain);
    });
    if (!result) {
      console.error(`no organization with the id ${args.org}`);
      return 1;
    }
    logger.info({ orgId: args.org, domainId: result.domain.id, domain: args.domain, changed: result.changed }, 'domain verified by operator');
    console.log(result.changed ? `domain ${args.domain} verified for org ${args.org}` : `domain ${args.domain} was already verified for org ${args.org}`);
    return 0;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    console.error(`${err.code}: ${err.detail}`);
    return 1;
  } finally {
    await db.close();
  }
}
