import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';

/** `gatehouse domains verify --org O --domain D`: an operator marks a domain verified (audited). */
export async function domainsVerifyCommand(_config: Config, _logger: Logger, _orgId: string, _domain: string): Promise<number> {
  return 1;
}
