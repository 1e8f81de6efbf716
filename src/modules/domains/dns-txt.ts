import { Resolver } from 'node:dns/promises';
import type { Config } from '../../../config/config.schema.ts';

/** TXT look-ups for domain verification; tests point it at a DNS server on loopback. */
export interface TxtResolver {
  /** The TXT records at `name`, each as its character-strings; [] when there are none. */
  resolveTxt(name: string): Promise<string[][]>;
}

/** A look-up that could not be answered (timeout, SERVFAIL, refused): not the same as "no record". */
export class DnsLookupError extends Error {
  readonly code: string;

  constructor(code: string, cause: unknown) {
    super(`DNS lookup failed: ${code}`, { cause });
    this.code = code;
  }
}

// c-ares codes that mean the name or its TXT records do not exist (RFC 2308 NXDOMAIN / NODATA).
const notFound = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * A resolver on GATEHOUSE_DNS_SERVERS (comma-separated IP[:port]) or, unset, the system's. Each
 * query waits `timeoutMs` per try, two tries, so a verify request cannot hang on DNS.
 */
export function txtResolver(config: Pick<Config, 'dnsServers'>, timeoutMs = 2000): TxtResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  // setServers throws on a malformed address: at start-up, not at the first verification.
  if (config.dnsServers) resolver.setServers(config.dnsServers.split(',').map((s) => s.trim()).filter(Boolean));
  return {
    async resolveTxt(name: string): Promise<string[][]> {
      try {
        return await resolver.resolveTxt(name);
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'EUNKNOWN';
        if (notFound.has(code)) return [];
        throw new DnsLookupError(code, err);
      }
    },
  };
}
