import { z } from 'zod';
import { timestamp } from '../../http/schemas.ts';
import type { DirectoryGroupRow, DirectoryRuleRow, DirectoryUserRow } from './directories.repository.ts';
import type { Directory } from './directory.entity.ts';

// What the directories API answers. The token appears only in the create and rotate answers;
// every other view says whether one is active and since when.

export const directorySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  defaultRole: z.string(),
  scimBaseUrl: z.string(),
  tokenActive: z.boolean(),
  tokenCreatedAt: timestamp.nullable(),
  disabledByPlan: z.boolean().describe('The org\'s plan no longer includes SCIM: kept, but its SCIM requests are refused until the plan does again'),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const issuedTokenSchema = z.object({ token: z.string(), tokenCreatedAt: timestamp });

export const createdDirectorySchema = directorySchema.extend(issuedTokenSchema.shape);

export const directoryUserSchema = z.object({
  id: z.uuid(),
  userName: z.string(),
  email: z.string().nullable(),
  active: z.boolean(),
  userId: z.uuid(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const directoryGroupSchema = z.object({
  id: z.uuid(),
  displayName: z.string(),
  externalId: z.string().nullable(),
  memberCount: z.number().int(),
});

export const ruleSchema = z.object({
  id: z.uuid(),
  groupId: z.uuid(),
  groupDisplayName: z.string(),
  role: z.string().nullable(),
  teamId: z.uuid().nullable(),
  createdAt: timestamp,
});

/** RFC 7644 §3.1: the SCIM base URL the IdP is given; resources are below it. */
export function scimBaseUrl(publicUrl: string, directoryId: string): string {
  return `${publicUrl}/scim/v2/${directoryId}`;
}

export function directoryView(row: Directory, publicUrl: string) {
  return {
    id: row.id,
    name: row.name,
    defaultRole: row.defaultRole,
    scimBaseUrl: scimBaseUrl(publicUrl, row.id),
    tokenActive: row.tokenHash != null,
    tokenCreatedAt: row.tokenCreatedAt ?? null,
    disabledByPlan: row.planDisabledAt != null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
export type DirectoryView = ReturnType<typeof directoryView>;

/** What the audit trail keeps: never the token or its hash. */
export function directoryAuditView(row: Directory) {
  return { name: row.name, defaultRole: row.defaultRole };
}

export function directoryUserView(r: DirectoryUserRow) {
  return { id: r.id, userName: r.user_name, email: r.email, active: r.active, userId: r.user_id, createdAt: r.created_at, updatedAt: r.updated_at };
}

export function directoryGroupView(r: DirectoryGroupRow) {
  return { id: r.id, displayName: r.display_name, externalId: r.external_id, memberCount: r.member_count };
}

export function ruleView(r: DirectoryRuleRow) {
  return { id: r.id, groupId: r.group_id, groupDisplayName: r.group_display_name, role: r.role, teamId: r.team_id, createdAt: r.created_at };
}
