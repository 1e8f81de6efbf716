import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    seq: p.bigint('number'),
    type: p.text(),
    actorType: p.text(),
    actorId: p.text().nullable(),
    targetType: p.text().nullable(),
    targetId: p.text().nullable(),
    ip: p.text().nullable(),
    userAgent: p.text().nullable(),
    requestId: p.text().nullable(),
    before: p.json<Record<string, unknown>>().nullable(),
    after: p.json<Record<string, unknown>>().nullable(),
    occurredAt: p.datetime(),
    prevHash: p.text(),
    hash: p.text(),
  },
});
export type AuditEvent = InferEntity<typeof AuditEvent>;

export const AuditChainHead = defineEntity({
  name: 'AuditChainHead',
  tableName: 'audit_chain_heads',
  properties: {
    orgId: p.uuid().primary(),
    seq: p.bigint('number'),
    hash: p.text(),
  },
});
export type AuditChainHead = InferEntity<typeof AuditChainHead>;
