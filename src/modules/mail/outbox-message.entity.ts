import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const OutboxMessage = defineEntity({
  name: 'OutboxMessage',
  tableName: 'outbox_messages',
  properties: {
    id: p.uuid().primary(),
    recipient: p.text(),
    subject: p.text(),
    // cleared once sent: a body may hold a one-time link.
    body: p.text().nullable().hidden(),
    status: p.enum(['pending', 'sent', 'failed'] as const),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    availableAt: p.datetime().onCreate(() => new Date()),
    createdAt: p.datetime().onCreate(() => new Date()),
    sentAt: p.datetime().nullable(),
  },
});
export type OutboxMessage = InferEntity<typeof OutboxMessage>;
