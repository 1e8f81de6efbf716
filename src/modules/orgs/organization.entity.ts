import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const Organization = defineEntity({
  name: 'Organization',
  tableName: 'organizations',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    slug: p.text(),
    kind: p.enum(['team', 'personal'] as const),
    /** Owners and admins must sign in with a second factor (the hosted sign-in enforces it). */
    requireMfa: p.boolean().default(false),
    /** Members whose email is in the org's verified domains sign in to it only through its SSO connections. */
    ssoEnforced: p.boolean().default(false),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Organization = InferEntity<typeof Organization>;
