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
    /** Bound to one workspace of the org, or to none (the whole org). */
    workspaceId: p.uuid().nullable(),
    /** After a rotation, the old secret's hash, valid until previousSecretExpiresAt (one kept at most). */
    previousSecretHash: p.text().hidden().nullable(),
    previousSecretExpiresAt: p.datetime().nullable(),
    rotatedAt: p.datetime().nullable(),
    /** Added to in batches by the gateway (api-key-usage.ts); never written here. */
    usageCount: p.bigint('number').default(0),
  },
});
export type ApiKey = InferEntity<typeof ApiKey>;
