import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// The id is the public link id inside `ghs_<id>_<secret>`; only a keyed hash of the secret is kept.
export const SetupLink = defineEntity({
  name: 'SetupLink',
  tableName: 'setup_links',
  properties: {
    id: p.text().primary(),
    orgId: p.uuid(),
    scope: p.text(),
    secretHash: p.text().hidden(),
    createdBy: p.uuid(),
    note: p.text().nullable(),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    lastUsedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export type SetupLink = InferEntity<typeof SetupLink>;
