import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const membershipSources = ['invite', 'sso', 'scim', 'domain', 'bootstrap', 'created', 'signup'] as const;
export type MembershipSource = (typeof membershipSources)[number];

export const Membership = defineEntity({
  name: 'Membership',
  tableName: 'memberships',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    userId: p.uuid(),
    role: p.text(),
    source: p.enum(membershipSources),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Membership = InferEntity<typeof Membership>;
