import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// An org's claim on an email domain (migration 0011). Org-owned: the org filter and RLS apply.
// Several orgs may claim one domain; the partial unique index domains_verified_once lets only
// one of them hold it verified.
export const Domain = defineEntity({
  name: 'Domain',
  tableName: 'domains',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    domain: p.text(),
    /** What the TXT record must say; random, shown to the org, kept out of logs. */
    verificationToken: p.text().hidden(),
    verifiedAt: p.datetime().nullable(),
    verifiedBy: p.enum(['dns', 'operator'] as const).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type Domain = InferEntity<typeof Domain>;
