import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import { hashPassword } from '../../src/modules/users/password.ts';
import { UsersRepository } from '../../src/modules/users/users.repository.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { createOrg, keyFor } from '../helpers/factories.ts';
import { scimDirectory } from '../helpers/scim.ts';
import { relyingParty, testPassword, tokensFor } from '../helpers/sign-in.ts';
import { verifiedDomain } from '../helpers/sso.ts';

// Issue 5 acceptance: deactivating a user through SCIM makes their refresh token fail at once.
// The relying party is openid-client; the person signs in through the hosted login.
let t: TestApp;
let rp: oidc.Configuration;
beforeAll(async () => {
  t = await startAppAtPublicUrl();
  ({ rp } = await relyingParty(t));
});
afterAll(() => t.close());

const patchOp = (active: boolean) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
  Operations: [{ op: 'replace', value: { active } }],
});

test('deactivating a user through SCIM makes their refresh token fail immediately', async () => {
  const [org, other] = [await createOrg(t), await createOrg(t)];
  const domain = `deprov-${randomUUID().slice(0, 8)}.example`;
  await verifiedDomain(t, org.orgId, domain);
  // a person with their own password account, in the org's verified domain, also in another org
  const email = `pat.person@${domain}`;
  const user = await t.db.withoutOrg(async (em) => new UsersRepository(em).create({ email, name: 'Pat Person', passwordHash: await hashPassword(testPassword) }));
  await t.db.inOrg(other.orgId, (em) => new MembersRepository(em).create({ orgId: other.orgId, userId: user.id, role: 'member', source: 'invite' }));
  const creds = { email, password: testPassword };

  const dir = await scimDirectory(t, org.orgId, { name: 'Okta' });
  const created = await dir.scim('POST', '/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: email, active: true,
    name: { givenName: 'Pat', familyName: 'Person' }, emails: [{ primary: true, type: 'work', value: email }],
  });
  expect(created.status).toBe(201);

  const tokens = await tokensFor(t, rp, { organization: org.orgId }, creds);
  expect(tokens.claims()).toMatchObject({ sub: user.id, org_id: org.orgId, org_role: 'member' });
  const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
  expect(refreshed.claims()).toMatchObject({ sub: user.id, org_id: org.orgId });
  const refreshToken = refreshed.refresh_token ?? tokens.refresh_token!;
  const inOther = await tokensFor(t, rp, { organization: other.orgId }, creds);
  const key = await keyFor(t, org.orgId, user.id, 'member');
  const members = (credential: string) => fetch(`${t.url}/api/v1/orgs/${org.orgId}/members`, { headers: { authorization: `Bearer ${credential}` } });
  expect((await members(key)).status).toBe(200);

  const off = await dir.scim('PATCH', `/Users/${created.body.id}`, patchOp(false));
  expect(off).toMatchObject({ status: 200, body: { active: false } });

  await expect(oidc.refreshTokenGrant(rp, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
  expect((await members(key)).status).toBe(401);
  // the other org's tokens are that org's business, but they cannot switch into this org
  const stillOther = await oidc.refreshTokenGrant(rp, inOther.refresh_token!);
  expect(stillOther.claims()).toMatchObject({ org_id: other.orgId });
  await expect(oidc.refreshTokenGrant(rp, stillOther.refresh_token ?? inOther.refresh_token!, { organization: org.orgId })).rejects.toMatchObject({ error: 'invalid_grant' });

  const on = await dir.scim('PATCH', `/Users/${created.body.id}`, patchOp(true));
  expect(on).toMatchObject({ status: 200, body: { active: true } });
  // a new sign-in gets org tokens again; what was revoked stays revoked
  expect((await tokensFor(t, rp, { organization: org.orgId }, creds)).claims()).toMatchObject({ sub: user.id, org_id: org.orgId, org_role: 'member' });
  await expect(oidc.refreshTokenGrant(rp, refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
  expect((await members(key)).status).toBe(401);
});
