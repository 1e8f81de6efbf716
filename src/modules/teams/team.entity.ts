import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// A team admin may manage their own team's members without teams:manage.
export const teamRoles = ['admin', 'member'] as const;
export type TeamRole = (typeof teamRoles)[number];

export const Team = defineEntity({
  name: 'Team',
  tableName: 'teams',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    name: p.text(),
    description: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type Team = InferEntity<typeof Team>;

export const TeamMember = defineEntity({
  name: 'TeamMember',
  tableName: 'team_members',
  properties: {
    id: p.uuid().primary(),
    orgId: p.uuid(),
    teamId: p.uuid(),
    userId: p.uuid(),
    role: p.enum(teamRoles),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export type TeamMember = InferEntity<typeof TeamMember>;
