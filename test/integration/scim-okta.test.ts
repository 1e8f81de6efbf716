import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createOrg, createUser } from '../helpers/factories.ts';
import { accountsWithEmail, loadSession, membersByEmail, replaySession, scimDirectory } from '../helpers/scim.ts';
import { auditEventsOf } from '../helpers/snapshot.ts';
import { verifiedDomain } from '../helpers/sso.ts';

// Okta's provisioning session (test/fixtures/scim/okta-session.json) replayed over HTTP against
// the real app: lookup before create, PUT updates, deactivation and reactivation by PATCH,
// group push with members in PATCH, POST and PUT bodies, rename, deletes. Each step checks the
// SCIM answer and the org's members, roles and teams that follow from it.
let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t.close());

const usersWithEmail = (email: string) => accountsWithEmail(t, email);

test('an Okta provisioning session drives members, roles and teams; links only in verified domains', async () => {
  const org = await createOrg(t);
  const domain = `okta-${randomUUID().slice(0, 8)}.example`;
  const outside = `elsewhere-${randomUUID().slice(0, 8)}.example`;
  await verifiedDomain(t, org.orgId, domain);
  // alice already has her own account (in the org's verified domain: SCIM links to it);
  // bob's address is outside the org's domains: his own account must never be taken over.
  const alice = await createUser(t, `alice.ng@${domain}`);
  const bobOwn = await createUser(t, `bob.ruiz@${outside}`);
  const team = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/teams`, { name: 'Support' });
  expect(team.status).toBe(201);
  const dir = await scimDirectory(t, org.orgId, { name: 'Okta' });
  expect(dir.scimBaseUrl).toMatch(new RegExp(`/scim/v2/${dir.id}$`));

  await replaySession(dir, loadSession('okta-session.json'), {
    vars: { domain, outside, teamId: team.body.id },
    after: {
      'create alice': async () => {
        expect((await membersByEmail(dir)).get(alice.email)?.userId).toBe(alice.id);
        expect(await usersWithEmail(alice.email)).toEqual([{ id: alice.id, managed_by_org_id: null }]);
      },
      'create bob (address outside the verified domains)': async () => {
        const managed = (await membersByEmail(dir)).get(bobOwn.email)!.userId;
        expect(managed).not.toBe(bobOwn.id);
        expect(await usersWithEmail(bobOwn.email)).toEqual([{ id: bobOwn.id, managed_by_org_id: null }, { id: managed, managed_by_org_id: org.orgId }]);
      },
      'delete alice': async () => {
        // the org lets her go; her own account stays hers
        expect(await usersWithEmail(alice.email)).toEqual([{ id: alice.id, managed_by_org_id: null }]);
      },
    },
  });

  // every change the IdP made is audited with the directory as actor
  const actors = await t.db.inOrg(org.orgId, (em) => em.execute<{ actor_type: string; actor_id: string }[]>(
    `SELECT DISTINCT actor_type, actor_id FROM audit_events WHERE type LIKE 'directory.user_%' OR type LIKE 'directory.group_%'`));
  expect(actors).toEqual([{ actor_type: 'directory', actor_id: dir.id }]);
  expect(await auditEventsOf(t, org.orgId, 'directory.user_created')).toHaveLength(3);
  expect(await auditEventsOf(t, org.orgId, 'directory.user_suspended')).toHaveLength(1);
  expect(await auditEventsOf(t, org.orgId, 'directory.user_restored')).toHaveLength(1);
  expect(await auditEventsOf(t, org.orgId, 'directory.user_deleted')).toHaveLength(1);
});
