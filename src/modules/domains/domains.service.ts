import { randomBytes } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { v7 as uuidv7 } from 'uuid';
import { AppError, ConflictError, NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import type { OrgScope } from '../scope.ts';
import { DnsLookupError, type TxtResolver } from './dns-txt.ts';
import type { Domain } from './domain.entity.ts';
import { DomainsRepository } from './domains.repository.ts';

/** Where and what the org publishes to prove it controls a domain. */
export function txtRecordOf(domain: Domain) {
  return { name: `_gatehouse-challenge.${domain.domain}`, type: 'TXT' as const, value: `gatehouse-domain-verification=${domain.verificationToken}` };
}

export function domainView(domain: Domain) {
  return {
    id: domain.id,
    domain: domain.domain,
    verified: domain.verifiedAt != null,
    verifiedAt: domain.verifiedAt ?? null,
    verifiedBy: domain.verifiedBy ?? null,
    txtRecord: txtRecordOf(domain),
    createdAt: domain.createdAt,
  };
}
export type DomainView = ReturnType<typeof domainView>;

/** What the audit trail keeps: the claim and its state, not the token. */
function auditView(domain: Domain) {
  return { domain: domain.domain, verifiedAt: domain.verifiedAt ?? null, verifiedBy: domain.verifiedBy ?? null };
}

const exists = (domain: string) => new ConflictError('domain.exists', `This organization has already added ${domain}.`);
const taken = (domain: string) => new ConflictError('domain.taken', `${domain} is already verified by another organization.`);

export class DomainsService {
  readonly #scope: OrgScope;
  readonly #domains: DomainsRepository;
  readonly #dns: TxtResolver;

  constructor(scope: OrgScope, dns: TxtResolver) {
    this.#scope = scope;
    this.#domains = new DomainsRepository(scope.em);
    this.#dns = dns;
  }

  /** A pending claim with a fresh token; another org holding the domain verified does not stop it. */
  async add(name: string): Promise<DomainView> {
    this.#scope.authorize('sso:manage');
    if (await this.#domains.findByName(name)) throw exists(name);
    const row = await this.#insert(name).catch((err: unknown) => {
      throw err instanceof UniqueConstraintViolationException ? exists(name) : err;
    });
    await recordAudit(this.#scope, { type: 'domain.added', target: { type: 'domain', id: row.id }, after: auditView(row) });
    return domainView(row);
  }

  async list(query: PageQuery): Promise<Page<DomainView>> {
    this.#scope.authorize('sso:manage');
    const rows = await this.#domains.listPage(query.limit, query.cursor);
    return toPage(rows, query.limit, (d) => d.id, domainView);
  }

  async get(id: string): Promise<DomainView> {
    this.#scope.authorize('sso:manage');
    return domainView(await this.#load(id));
  }

  /** Verified when the TXT record is published; a domain already verified stays as it is. */
  async verify(id: string): Promise<DomainView> {
    this.#scope.authorize('sso:manage');
    const row = await this.#load(id);
    if (row.verifiedAt) return domainView(row);
    await this.#checkTxtRecord(row);
    await this.#markVerified(row, 'dns');
    return domainView(row);
  }

  async remove(id: string): Promise<void> {
    this.#scope.authorize('sso:manage');
    const row = await this.#load(id);
    const before = auditView(row);
    await this.#domains.remove(row);
    await recordAudit(this.#scope, { type: 'domain.removed', target: { type: 'domain', id }, before });
  }

  /**
   * The platform operator's decision (`gatehouse domains verify`): verified without DNS, the
   * claim made first if the org had not added the domain. False when it was verified already.
   */
  async verifyByOperator(name: string): Promise<{ domain: DomainView; changed: boolean }> {
    const row = (await this.#domains.findByName(name)) ?? (await this.#insert(name));
    if (row.verifiedAt) return { domain: domainView(row), changed: false };
    await this.#markVerified(row, 'operator');
    return { domain: domainView(row), changed: true };
  }

  async #load(id: string): Promise<Domain> {
    const row = await this.#domains.find(id);
    if (!row) throw new NotFoundError('domain.not_found', 'No such domain.');
    return row;
  }

  #insert(name: string): Promise<Domain> {
    return this.#domains.create({ id: uuidv7(), orgId: this.#scope.orgId, domain: name, verificationToken: randomBytes(16).toString('hex') });
  }

  /** The one proof: a TXT record at the challenge name whose text is exactly the expected value. */
  async #checkTxtRecord(row: Domain): Promise<void> {
    const expected = txtRecordOf(row);
    const failed = (why: string) => new AppError('domain.verification_failed', 422,
      `${why} Publish a TXT record at ${expected.name} with the value "${expected.value}", then verify again.`);
    let records: string[][];
    try {
      records = await this.#dns.resolveTxt(expected.name);
    } catch (err) {
      if (err instanceof DnsLookupError) throw failed(`The DNS look-up of ${expected.name} failed (${err.code}).`);
      throw err;
    }
    // RFC 7208 §3.3-style: a record split into several character-strings is read joined.
    if (!records.some((strings) => strings.join('').trim() === expected.value)) {
      throw failed(records.length ? `No TXT record at ${expected.name} has the expected value.` : `No TXT record was found at ${expected.name}.`);
    }
  }

  /** domains_verified_once lets one org hold a domain verified: a second one is refused here. */
  async #markVerified(row: Domain, by: 'dns' | 'operator'): Promise<void> {
    const before = auditView(row);
    row.verifiedAt = new Date();
    row.verifiedBy = by;
    try {
      await this.#domains.save();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw taken(row.domain);
      throw err;
    }
    await recordAudit(this.#scope, { type: 'domain.verified', target: { type: 'domain', id: row.id }, before, after: auditView(row) });
  }
}
