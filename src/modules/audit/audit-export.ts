import { Readable } from 'node:stream';
import type { Database } from '../../db/database.ts';
import type { AuditEvent } from './audit-event.entity.ts';
import { AuditRepository, type AuditFilter } from './audit.repository.ts';
import { auditEventView } from './audit-view.ts';
import { chainedContent } from './audit-chain.ts';

export const exportFormats = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof exportFormats)[number];

export const contentTypes: Record<ExportFormat, string> = { jsonl: 'application/x-ndjson', csv: 'text/csv' };

const csvColumns = [
  'id', 'seq', 'type', 'actorType', 'actorId', 'targetType', 'targetId', 'ip', 'userAgent', 'requestId',
  'before', 'after', 'occurredAt', 'prevHash', 'hash',
] as const;

/**
 * One RFC 4180 field. A cell a spreadsheet would run as a formula (OWASP "CSV injection": a
 * leading = + - @ tab or CR, e.g. from a caller-chosen User-Agent) is prefixed with `'`; the
 * JSONL export keeps every value exact.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvHeader(): string {
  return `${csvColumns.join(',')}\r\n`;
}

export function csvRow(e: AuditEvent): string {
  const json = (v: Record<string, unknown> | null | undefined) => (v == null ? null : JSON.stringify(v));
  const content = chainedContent(e);
  const cells: Record<(typeof csvColumns)[number], string | number | null> = {
    ...content, before: json(content.before), after: json(content.after), prevHash: e.prevHash, hash: e.hash,
  };
  return `${csvColumns.map((c) => csvField(cells[c])).join(',')}\r\n`;
}

export function jsonlRow(e: AuditEvent): string {
  return `${JSON.stringify(auditEventView(e))}\n`;
}

export interface ExportSource {
  db: Database;
  orgId: string;
  filter: AuditFilter;
  /** The chain head when the export was asked for: later events are not part of it. */
  upToSeq: number;
}

/**
 * Every matching event oldest first, as a byte stream. The body is consumed after the request's
 * transaction has ended, so each page is read in its own short org transaction; a page is only
 * read once the client has taken the previous one, so memory stays flat however long the trail.
 */
export function exportStream(source: ExportSource, format: ExportFormat, pageSize = 500): Readable {
  const { db, orgId, filter, upToSeq } = source;
  const row = format === 'csv' ? csvRow : jsonlRow;
  async function* chunks(): AsyncGenerator<string> {
    if (format === 'csv') yield csvHeader();
    let afterSeq = 0;
    for (;;) {
      const page = await db.inOrg(orgId, (em) => new AuditRepository(em).exportPage(filter, afterSeq, upToSeq, pageSize));
      if (page.length) yield page.map(row).join('');
      if (page.length < pageSize) return;
      afterSeq = page.at(-1)!.seq;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
