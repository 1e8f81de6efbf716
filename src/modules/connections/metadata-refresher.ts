import type { Logger } from 'pino';
import { parseIdpMetadata } from '../../../saml/idp-metadata.ts';
import type { Database } from '../../db/database.ts';
import { PeriodicJob } from '../../db/periodic-job.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import type { PlatformRepository } from '../platform/platform.repository.ts';
import { OrgScope } from '../scope.ts';
import { connectionView } from './connection-view.ts';
import { ConnectionsRepository } from './connections.repository.ts';
import { warnExpiringCertificates } from './idp-certificates.ts';
import { fetchIdpMetadata, idpFromMetadata, type SamlIdpSettings } from './idp-source.ts';

export interface MetadataRefresherOptions {
  db: Database;
  platform: PlatformRepository;
  logger: Logger;
  publicUrl: string;
  intervalMs: number;
}

export interface RefreshSummary {
  checked: number;
  changed: number;
  failed: number;
}

const meta = { ip: null, userAgent: 'gatehouse metadata refresher', requestId: null };

/**
 * Re-fetches the metadata of SAML connections that have an idpMetadataUrl, so an IdP's certificate
 * rollover reaches us before its old certificate ends; reports IdP certificates that end within
 * 30 days (once each), those entered by hand included. Every node runs it: a row lock serialises them, and the second finds
 * nothing new to write. A fetch or parse failure keeps the old metadata and is logged; no error
 * escapes the timer.
 */
export class MetadataRefresher {
  readonly #opts: MetadataRefresherOptions;
  readonly #job: PeriodicJob<RefreshSummary>;

  constructor(opts: MetadataRefresherOptions) {
    this.#opts = opts;
    this.#job = new PeriodicJob({
      name: 'IdP metadata refresh', intervalMs: opts.intervalMs, logger: opts.logger,
      run: () => this.#refreshAll(), summary: (summary) => (summary.checked > 0 ? summary : null),
    });
  }

  /** One pass over every connection with a metadata URL. */
  refreshOnce(): Promise<RefreshSummary> {
    return this.#job.runOnce();
  }

  start(): void {
    this.#job.start();
  }

  stop(): Promise<void> {
    return this.#job.stop();
  }

  async #refreshAll(): Promise<RefreshSummary> {
    const summary: RefreshSummary = { checked: 0, changed: 0, failed: 0 };
    for (const row of await this.#opts.platform.samlConnectionsForRefresh()) {
      // Many connections can take long: stop() waits for the one in hand only.
      if (this.#job.stopping) break;
      summary.checked++;
      try {
        if (!row.metadata_url) await this.#checkCertificates(row.org_id, row.id);
        else if (await this.#refreshConnection(row.org_id, row.id, row.metadata_url)) summary.changed++;
      } catch (err) {
        summary.failed++;
        this.#opts.logger.warn({ connectionId: row.id, orgId: row.org_id, reason: (err as Error).message }, 'IdP metadata refresh failed; the connection keeps its metadata');
      }
    }
    return summary;
  }

  /** Certificates entered by hand have no metadata to re-fetch; they are only watched for their end. */
  async #checkCertificates(orgId: string, id: string): Promise<void> {
    await this.#opts.db.inOrg(orgId, async (em) => {
      const connections = new ConnectionsRepository(em);
      const connection = await connections.findForUpdate(id);
      if (!connection?.saml) return;
      await warnExpiringCertificates(new OrgScope(orgId, em, null, meta), connection);
      await connections.save();
    });
  }

  /** Fetches outside any transaction; then applies the result to the locked row. True when the IdP changed. */
  async #refreshConnection(orgId: string, id: string, url: string): Promise<boolean> {
    const metadata = parseIdpMetadata(await fetchIdpMetadata(url));
    return this.#opts.db.inOrg(orgId, async (em) => {
      const connections = new ConnectionsRepository(em);
      const connection = await connections.findForUpdate(id);
      // Changed by an admin meanwhile: their settings win.
      if (!connection?.saml || connection.saml.metadataUrl !== url) return false;
      const scope = new OrgScope(orgId, em, null, meta);
      const saml = connection.saml;
      const idp = idpFromMetadata(metadata, url, saml.ssoBinding);
      const changed = !sameIdp(saml, idp);
      const before = connectionView(connection, this.#opts.publicUrl);
      connection.saml = { ...saml, ...idp, metadataRefreshedAt: new Date().toISOString() };
      await warnExpiringCertificates(scope, connection);
      await connections.save();
      if (changed) {
        await recordAudit(scope, { type: 'connection.metadata_refreshed', target: { type: 'connection', id }, before, after: connectionView(connection, this.#opts.publicUrl) });
      }
      return changed;
    });
  }
}

function sameIdp(current: SamlIdpSettings, next: SamlIdpSettings): boolean {
  return current.idpEntityId === next.idpEntityId && current.ssoUrl === next.ssoUrl && current.ssoBinding === next.ssoBinding
    && [...current.certificates].sort().join('\n') === [...next.certificates].sort().join('\n');
}
