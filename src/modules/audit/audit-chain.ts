import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

// Each org's events form a hash chain: an event's hash covers the previous event's hash and the
// event's own canonical content (RFC 8785 JSON), so editing, removing or reordering any stored
// event breaks every hash after it.

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedContent {
  id: string;
  orgId: string;
  seq: number;
  type: string;
  actorType: string;
  actorId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  occurredAt: Date;
}

/** The flat, null-normalised record a hash covers (and the CSV export shows). */
export function chainedContent(e: ChainedContent) {
  return {
    id: e.id,
    orgId: e.orgId,
    seq: e.seq,
    type: e.type,
    actorType: e.actorType,
    actorId: e.actorId ?? null,
    targetType: e.targetType ?? null,
    targetId: e.targetId ?? null,
    ip: e.ip ?? null,
    userAgent: e.userAgent ?? null,
    requestId: e.requestId ?? null,
    before: e.before ?? null,
    after: e.after ?? null,
    occurredAt: e.occurredAt.toISOString(),
  };
}

export function chainHash(prevHash: string, e: ChainedContent): string {
  const content = chainedContent(e);
  return createHash('sha256').update(prevHash).update('\n').update(canonicalize(content) ?? '').digest('hex');
}

const secretKey = /secret|token|password|hash|key_?material/i;

/** A copy of a state snapshot with every secret-looking field replaced, at any depth. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, secretKey.test(k) ? '[redacted]' : redact(v)]),
    );
  }
  return value;
}
