import type { Readable } from 'node:stream';
import type { Database } from '../../db/database.ts';
import { toPage, type Page } from '../../http/pagination.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import type { OrgScope } from '../scope.ts';
import { contentTypes, exportStream, type ExportFormat } from './audit-export.ts';
import { chainReaderIn, walkChain, type ChainReport } from './audit-verify.ts';
import { auditEventView, type AuditEventView } from './audit-view.ts';
import { AuditRepository, type AuditFilter } from './audit.repository.ts';

export interface AuditExport {
  filename: string;
  contentType: string;
  stream: Readable;
}

export class AuditService {
  readonly #scope: OrgScope;
  readonly #db: Database;
  readonly #audit: AuditRepository;
  readonly #plans: PlanDeps;

  constructor(scope: OrgScope, db: Database, plans: PlanDeps) {
    this.#scope = scope;
    this.#db = db;
    this.#audit = new AuditRepository(scope.em);
    this.#plans = plans;
  }

  /** Newest first; the cursor is the seq of the last event of the previous page. */
  async list(filter: AuditFilter, page: { limit: number; cursor?: number }): Promise<Page<AuditEventView>> {
    this.#scope.authorize('audit:read');
    const rows = await this.#audit.listPage(filter, page.limit, page.cursor);
    return toPage(rows, page.limit, (e) => String(e.seq), auditEventView);
  }

  /**
   * Checks the chain inside the request's transaction. It cannot open one per page as the CLI
   * does: the request already holds a connection, and a second one from inside it can wait
   * forever (embedded PGlite has a single connection; a busy pool may have none left).
   */
  async verify(): Promise<ChainReport> {
    this.#scope.authorize('audit:read');
    return walkChain(chainReaderIn(this.#scope.em, this.#scope.orgId));
  }

  /**
   * Every matching event up to the current head, oldest first, as a stream read after this
   * transaction ends. Permission and input are checked now, while an error can still be a
   * problem response.
   */
  async export(filter: AuditFilter, format: ExportFormat): Promise<AuditExport> {
    this.#scope.authorize('audit:read');
    await new PlanGate(this.#scope, this.#plans).requireFeature('audit_export');
    const head = await this.#audit.head();
    const orgId = this.#scope.orgId;
    const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
    return {
      filename: `audit-events-${orgId}-${stamp}.${format}`,
      contentType: contentTypes[format],
      stream: exportStream({ db: this.#db, orgId, filter, upToSeq: head?.seq ?? 0 }, format),
    };
  }
}
