import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { DirectoryContext, DirectoryUserInput } from '../../src/modules/directory-sync/directory-records.ts';
import type { TestApp } from './app.ts';

// Fixtures for tests of the directory-sync service itself: rows made in the org's own
// transaction (row-level security applies), without the directories API or a token.

const meta = { ip: null, userAgent: 'directory fixture', requestId: null };

/** A directory of `orgId` (no token) and the context its SCIM requests would carry. */
export async function directoryFor(t: TestApp, orgId: string, defaultRole = 'member'): Promise<DirectoryContext> {
  const directoryId = uuidv7();
  await t.db.inOrg(orgId, (em) => em.execute(
    'INSERT INTO directories (id, org_id, name, default_role) VALUES (?, ?, ?, ?)', [directoryId, orgId, `Directory ${directoryId.slice(-6)}`, defaultRole]));
  return { directoryId, orgId, defaultRole, meta };
}

/** A group → role or group → team rule, as the directories API would store it. */
export async function groupRule(t: TestApp, dir: DirectoryContext, groupId: string, rule: { role: string } | { teamId: string }): Promise<void> {
  await t.db.inOrg(dir.orgId, (em) => em.execute(
    'INSERT INTO directory_group_rules (id, org_id, directory_id, group_id, role, team_id) VALUES (?, ?, ?, ?, ?, ?)',
    [uuidv7(), dir.orgId, dir.directoryId, groupId, 'role' in rule ? rule.role : null, 'teamId' in rule ? rule.teamId : null]));
}

/** A directory user as the SCIM edge would hand it over. */
export function scimUser(email: string, extra: Partial<DirectoryUserInput> = {}): DirectoryUserInput {
  const [local] = email.split('@');
  return {
    userName: email, externalId: `ext-${randomUUID().slice(0, 8)}`, active: true, displayName: `${local} Person`, givenName: local ?? null, familyName: 'Person', email: email.toLowerCase(),
    resource: {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, name: { givenName: local, familyName: 'Person' },
      emails: [{ value: email.toLowerCase(), type: 'work', primary: true }],
    },
    ...extra,
  };
}
