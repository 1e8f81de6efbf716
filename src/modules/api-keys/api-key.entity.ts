import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// The id is the public key id inside `gh_<keyid>_<secret>`; only a keyed hash of the secret is kept.
export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    id: p.text().primary(),
    orgId: p.uuid(),
    name: p.text(),
    role: p.text(),
    secretHash: p.text().hidden(),
    createdBy: p.uuid(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime().nullable(),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});
export type ApiKey = InferEntity<typeof ApiKey>;
