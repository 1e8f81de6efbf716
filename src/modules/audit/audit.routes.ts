import { z } from 'zod';
import type { ApiServices } from '../../http/api-services.ts';
import { cursorOf, pageQuery, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type RouteSpec } from '../../http/route.ts';
import { orgParams } from '../../http/schemas.ts';
import { contentTypes, exportFormats } from './audit-export.ts';
import { AuditService } from './audit.service.ts';

const json = z.record(z.string(), z.unknown()).nullable();

export const auditEventSchema = z.object({
  id: z.uuid(),
  seq: z.number().int(),
  type: z.string(),
  actor: z.object({ type: z.string(), id: z.string().nullable() }),
  target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  before: json,
  after: json,
  occurredAt: z.string(),
  hash: z.string(),
  prevHash: z.string(),
});

const chainReportSchema = z.object({
  intact: z.boolean(),
  eventsChecked: z.number().int(),
  brokenAt: z.object({
    seq: z.number().int(),
    eventId: z.string().nullable(),
    reason: z.enum(['content_changed', 'link_broken', 'missing_event', 'head_mismatch', 'checkpoint_unexplained']),
  }).nullable(),
});

const datetime = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const id = z.string().max(128).regex(/^[A-Za-z0-9._:@-]+$/, 'an id');

const filterShape = {
  type: z.string().max(100).regex(/^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*(?:\.\*)?$/, 'an event type (member.role_changed) or a prefix (member.*)').optional(),
  actorId: id.optional(),
  targetId: id.optional(),
  since: datetime.optional(),
  until: datetime.optional(),
};

function untilAfterSince(q: { since?: Date; until?: Date }, ctx: z.RefinementCtx): void {
  if (q.since && q.until && q.until <= q.since) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be after since' });
}

// The cursor is the seq of the last event shown (newest first), base64url-encoded.
const seqCursor = cursorOf(/^[1-9][0-9]{0,14}$/, 'a sequence number').transform(Number);

// `?format=jsonl|csv` turns the list into an export of every matching event, which is not paginated.
const listQuery = pageQuery
  .extend({ ...filterShape, limit: pageQuery.shape.limit.unwrap().optional(), cursor: seqCursor.optional(), format: z.enum(['json', ...exportFormats]).default('json') })
  .superRefine(untilAfterSince)
  .superRefine((q, ctx) => {
    if (q.format !== 'json' && (q.limit !== undefined || q.cursor !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'an export is not paginated: drop limit and cursor' });
    }
  });

export function auditRoutes(services: ApiServices): RouteSpec[] {
  const { db } = services;
  return [
    defineRoute({
      method: 'get', path: '/orgs/:orgId/audit-events', zone: 'org', tag: 'audit',
      summary: 'List audit events, newest first; with ?format=jsonl|csv, export every matching event oldest first',
      params: orgParams,
      query: listQuery,
      responses: { 200: { description: 'A page of events, or the export stream', schema: pageSchema(auditEventSchema), streams: Object.values(contentTypes) } },
      handler: async ({ query: { limit, cursor, format, ...filter }, ctx }) => {
        const audit = new AuditService(ctx.state.scope, db, services);
        if (format === 'json') return { status: 200, body: await audit.list(filter, { limit: limit ?? 50, cursor }) };
        const exported = await audit.export(filter, format);
        exported.stream.on('error', (err) => ctx.state.log.error({ err }, 'audit export failed mid-stream'));
        ctx.set('Content-Disposition', `attachment; filename="${exported.filename}"`);
        ctx.set('Cache-Control', 'no-store');
        return { status: 200, type: exported.contentType, body: exported.stream };
      },
    }),
    defineRoute({
      method: 'get', path: '/orgs/:orgId/audit-events/verify', zone: 'org', tag: 'audit', summary: 'Verify the audit hash chain',
      params: orgParams,
      query: z.strictObject({}),
      responses: { 200: { description: 'The chain report', schema: chainReportSchema } },
      handler: async ({ ctx }) => ({ status: 200, body: await new AuditService(ctx.state.scope, db, services).verify() }),
    }),
  ];
}
