import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createOrg, createUser } from '../helpers/factories.ts';
import { accountsWithEmail, loadSession, membersByEmail, replaySession, scimDirectory } from '../helpers/scim.ts';
import { verifiedDomain } from '../helpers/sso.ts';

// Microsoft Entra ID's provisioning session (test/fixtures/scim/entra-session.json) replayed
// over HTTP against the real app: lookups by userName, externalId and work email, the enterprise
// extension, capitalised PATCH ops, booleans as strings, the manager in three shapes,
// excludedAttributes=members, member removal by a value array, rename, deletes. Each step checks
// the SCIM answer and the org's members and roles that follow from it.
let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t.close());

const usersWithEmail = (email: string) => accountsWithEmail(t, email);

test('an Entra provisioning session drives members and roles; links only in verified domains', async () => {
  const org = await createOrg(t);
  const domain = `entra-${randomUUID().slice(0, 8)}.example`;
  const outside = `partner-${randomUUID().slice(0, 8)}.example`;
  await verifiedDomain(t, org.orgId, domain);
  const ana = await createUser(t, `ana.silva@${domain}`);
  const extOwn = await createUser(t, `ext.contractor@${outside}`);
  const dir = await scimDirectory(t, org.orgId, { name: 'Entra ID' });

  await replaySession(dir, loadSession('entra-session.json'), {
    vars: { domain, outside },
    after: {
      'create mo (ana\'s manager)': async (vars) => {
        // no account yet, in a verified domain: a person's own account is made
        const mo = (await membersByEmail(dir)).get(vars.mo!)!;
        expect(await usersWithEmail(vars.mo!)).toEqual([{ id: mo.userId, managed_by_org_id: null }]);
      },
      'create ana with the enterprise extension': async () => {
        expect((await membersByEmail(dir)).get(ana.email)?.userId).toBe(ana.id);
      },
      'create ext (address outside the verified domains)': async () => {
        const managed = (await membersByEmail(dir)).get(extOwn.email)!.userId;
        expect(await usersWithEmail(extOwn.email)).toEqual([{ id: extOwn.id, managed_by_org_id: null }, { id: managed, managed_by_org_id: org.orgId }]);
      },
    },
  });
});

test('a token of another org\'s directory is refused (401, SCIM Error schema)', async () => {
  const [orgA, orgB] = [await createOrg(t), await createOrg(t)];
  const [dirA, dirB] = [await scimDirectory(t, orgA.orgId), await scimDirectory(t, orgB.orgId)];
  const res = await fetch(`${dirA.baseUrl}/Users?filter=${encodeURIComponent('userName eq "x@y.example"')}`, { headers: { authorization: `Bearer ${dirB.token}` } });
  expect(res.status).toBe(401);
  expect(await res.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
});
