import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// An org's SCIM directory (migration 0012). Org-owned: the org filter and RLS apply. The bearer
// token is kept only as the keyed hash of its secret (api-key-token.ts); null once revoked.
export const Directory = defineEntity({
  name: 'Directory',
  tableName: 'directories',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    name: p.text(),
    defaultRole: p.text(),
    tokenHash: p.text().nullable().hidden(),
    tokenCreatedAt: p.datetime().nullable(),
    /** Set while the org's plan lacks SCIM (billing/plan-effects.ts): kept, but its SCIM requests are refused. */
    planDisabledAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Directory = InferEntity<typeof Directory>;
