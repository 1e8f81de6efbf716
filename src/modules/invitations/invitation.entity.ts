import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const invitationStatuses = ['pending', 'accepted', 'expired', 'cancelled'] as const;
export type InvitationStatus = (typeof invitationStatuses)[number];

export const Invitation = defineEntity({
  name: 'Invitation',
  tableName: 'invitations',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    email: p.text(),
    role: p.text(),
    tokenHash: p.text().hidden(),
    status: p.enum(invitationStatuses),
    invitedBy: p.uuid().nullable(),
    acceptedBy: p.uuid().nullable(),
    expiresAt: p.datetime(),
    acceptedAt: p.datetime().nullable(),
    /** Wrong passwords given for the invitee's existing account; the invitation is retired at the limit. */
    failedAttempts: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Invitation = InferEntity<typeof Invitation>;
