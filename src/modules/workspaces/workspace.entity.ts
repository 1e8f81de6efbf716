import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// An org's environment (production, staging). API keys and service accounts may be bound to
// one; members may be limited to some (workspace_members, kept by the workspaces repository).
export const Workspace = defineEntity({
  name: 'Workspace',
  tableName: 'workspaces',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    name: p.text(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Workspace = InferEntity<typeof Workspace>;
