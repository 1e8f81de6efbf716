import { startApp, type TestApp } from '../helpers/app.ts';
import { addMember, createOrg, type TestOrg } from '../helpers/factories.ts';

let t: TestApp;
let org: TestOrg;

beforeAll(async () => {
  t = await startApp();
  org = await createOrg(t);
});
afterAll(() => t.close());

test('the owner key lists the org\'s members', async () => {
  const admin = await addMember(t, org.orgId, 'admin');
  const res = await org.owner.api('GET', `/api/v1/orgs/${org.orgId}/members`);
  expect(res.status).toBe(200);
  expect(res.body.data.map((m: { userId: string }) => m.userId)).toEqual([org.owner.userId, admin.userId]);
  expect(res.body.data[0]).toMatchObject({ role: 'owner', source: 'bootstrap', email: org.owner.email });
});
