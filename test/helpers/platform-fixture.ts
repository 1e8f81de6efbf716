import { randomUUID } from 'node:crypto';
import { testCertificate } from './idp-metadata.ts';
import { createOrg, uniqueEmail, type TestOrg } from './factories.ts';
import { createMember } from './sign-in.ts';
import { scimClient } from './scim.ts';
import { oidcConnection, samlConnection } from './sso.ts';
import type { TestApp } from './app.ts';

// Orgs for the platform overview's tests (API and console): one with everything the overview
// counts, and with every secret it must never show, so a test can look for those secrets.

/** A platform API key (ghp_…), stored as `gatehouse platform-keys create` stores it. */
export async function platformKey(t: TestApp): Promise<string> {
  const issued = t.app.services.apiKeyTokens.issue('platform');
  await t.app.services.platform.createPlatformKey({ id: issued.id, name: 'ops', secretHash: issued.secretHash });
  return issued.token;
}

export interface BusyOrg {
  org: TestOrg;
  name: string;
  /** A member who signs in with testPassword (console tests). */
  member: { id: string; email: string };
  /** Values that must never appear in the overview. */
  secrets: { scimToken: string; oidcClientSecret: string; ownerEmail: string; memberEmail: string; scimUserEmail: string; invitedEmail: string; certificateBody: string };
  /** The soonest IdP certificate end. */
  certificateExpiresAt: Date;
  /** Members: owner, one more member and one SCIM-provisioned person. */
  members: 3;
}

/**
 * An org on `plan` (an org_billing row, active) with: an extra member, a pending invitation, a
 * SAML connection whose IdP lists a certificate ending in 10 days and one ending in ~2 years, a
 * turned-off OIDC connection with a client secret, and a SCIM directory that pushed one user.
 */
export async function busyOrg(t: TestApp, prefix: string, plan = 'enterprise'): Promise<BusyOrg> {
  const name = `${prefix} ${randomUUID().slice(0, 8)}`;
  const org = await createOrg(t, name);
  await t.db.inOrg(org.orgId, (em) => em.execute(`INSERT INTO org_billing (org_id, plan, status) VALUES (?, ?, 'active')`, [org.orgId, plan]));
  const member = await createMember(t, [[org, 'member']], 'member');
  const invitedEmail = uniqueEmail('invited');
  const invited = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/invitations`, { email: invitedEmail, role: 'member' });
  if (invited.status !== 201) throw new Error(`invitation: ${invited.status} ${invited.text}`);
  const soon = testCertificate('Expiring IdP', 10);
  await samlConnection(t, org.orgId, { idpEntityId: 'https://idp.example.test', ssoUrl: 'https://idp.example.test/sso', certificates: [testCertificate('Next IdP', 700), soon] });
  const oidcClientSecret = `oidc-secret-${randomUUID()}`;
  const oidc = await oidcConnection(t, org.orgId, { issuer: 'https://login.example.test', clientId: 'gatehouse' }, oidcClientSecret);
  await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE connections SET active = false WHERE id = ?', [oidc.id]));
  const dir = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/directories`, { name: 'IdP', defaultRole: 'member' });
  if (dir.status !== 201) throw new Error(`directory: ${dir.status} ${dir.text}`);
  const scim = scimClient(`${t.url}${new URL(dir.body.scimBaseUrl).pathname}`, dir.body.token);
  const scimUserEmail = uniqueEmail('scim');
  const pushed = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: scimUserEmail, emails: [{ value: scimUserEmail, primary: true }] });
  if (pushed.status !== 201) throw new Error(`SCIM user: ${pushed.status}`);
  return {
    org, name, member,
    secrets: { scimToken: dir.body.token, oidcClientSecret, ownerEmail: org.owner.email, memberEmail: member.email, scimUserEmail, invitedEmail, certificateBody: soon.split('\n')[1]! },
    certificateExpiresAt: new Date(Date.now() + 10 * 24 * 3600 * 1000),
    members: 3,
  };
}
