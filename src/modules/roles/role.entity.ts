import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// A custom role of one org. Built-in roles live in code (permissions.ts), not here.
export const Role = defineEntity({
  name: 'Role',
  tableName: 'roles',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    key: p.text(),
    name: p.text(),
    description: p.text().nullable(),
    permissions: p.array(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Role = InferEntity<typeof Role>;
