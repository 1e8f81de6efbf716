import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// An org's machine client for the client_credentials grant. The secret is sealed (AES-256-GCM):
// the issuer must compare the presented secret with it, so a one-way hash would not do.
export const ServiceAccount = defineEntity({
  name: 'ServiceAccount',
  tableName: 'service_accounts',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    name: p.text(),
    role: p.text(),
    clientId: p.text(),
    secret: p.text().hidden(),
    createdBy: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    revokedAt: p.datetime().nullable(),
    /** Bound to one workspace of the org, or to none (the whole org). */
    workspaceId: p.uuid().nullable(),
  },
});
export type ServiceAccount = InferEntity<typeof ServiceAccount>;
