import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// Users are global: one person, many orgs. Not org-scoped, so no org filter and no RLS.
export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary(),
    email: p.text(),
    name: p.text().nullable(),
    passwordHash: p.text().nullable().hidden(),
    disabledAt: p.datetime().nullable(),
    /** Set on an account an org's IdP made outside the org's verified domains: that org's alone. */
    managedByOrgId: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type User = InferEntity<typeof User>;
