import { jest } from '@jest/globals';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { MembersRepository } from '../../src/modules/members/members.repository.ts';
import { gatewayResource, issuerUrl } from '../../src/oidc/provider.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { gatewayNode, within, type GatewayNode } from '../helpers/gateway-node.ts';
import { createMember, relyingParty, testPassword, tokensFor } from '../helpers/sign-in.ts';

// GatewayCredentials on access tokens, built against the real app's database. Tokens come from
// the issuer through openid-client (an independent client); two nodes each with their own
// listening connection show that a change reaches every node's cache.
let t: TestApp;
let org: TestOrg;
let rp: oidc.Configuration;
let a: GatewayNode;
let b: GatewayNode;
let audience: string;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
  org = await createOrg(t);
  ({ rp } = await relyingParty(t));
  audience = gatewayResource(t.config);
  [a, b] = await Promise.all([gatewayNode(t), gatewayNode(t)]);
});
afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
  await t.close();
});

async function memberToken(role: string, resource = audience): Promise<{ userId: string; token: string; idToken: string }> {
  const user = await createMember(t, [[org, role]]);
  const tokens = await tokensFor(t, rp, { organization: org.orgId, resource }, { email: user.email, password: testPassword });
  return { userId: user.id, token: tokens.access_token, idToken: tokens.id_token! };
}

const bearer = (token: string) => `Bearer ${token}`;
const resolve = (node: GatewayNode, header: string | undefined) => Promise.resolve(node.credentials.resolve(header));

test('a user\'s access token for the gateway resource gives the member\'s org, role and workspaces; a warm request answers synchronously', async () => {
  const { userId, token } = await memberToken('member');
  const principal = await resolve(a, bearer(token));
  expect(principal).toMatchObject({ orgId: org.orgId, orgSlug: org.slug, userId, role: 'member', workspaceId: null, credential: { type: 'access_token' } });
  expect(principal!.permissions.has('org:read')).toBe(true);
  expect(principal!.permissions.has('members:invite')).toBe(false);
  expect(Object.isFrozen(principal)).toBe(true);
  const again = a.credentials.resolve(bearer(token));
  expect(again).toBe(principal); // the same object, not a promise
  expect(a.credentials.resolve(`bEaReR ${token}`)).not.toBeNull(); // the scheme is case-insensitive
});

test('malformed Authorization headers are refused without a lookup', async () => {
  const { token } = await memberToken('viewer');
  for (const header of [undefined, '', 'Bearer', 'Bearer ', `Bearer  ${token}`, `Basic ${token}`, `Bearer ${token} x`, `${token}`, `Bearer ${token}\n`, 'Bearer a.b', `Bearer ${'a'.repeat(9000)}.b.c`]) {
    expect(await resolve(a, header)).toBeNull();
  }
});

test('an access token for the management API is refused (wrong audience)', async () => {
  const { token } = await memberToken('admin', `${t.url}/api/v1`);
  expect(await resolve(a, bearer(token))).toBeNull();
});

test('an ID token is refused: wrong type (and audience)', async () => {
  const { userId, idToken } = await memberToken('member');
  expect(await resolve(a, bearer(idToken))).toBeNull();
  // Right audience, signed by Gatehouse, but typed as a plain JWT: still not an access token.
  const plain = await a.keys.sign({ iss: issuerUrl(t.config), aud: audience, sub: userId, org_id: org.orgId }, { typ: 'JWT', expiresAt: Date.now() + 60_000 });
  expect(await resolve(a, bearer(plain))).toBeNull();
});

test('an expired access token is refused', async () => {
  const { userId } = await memberToken('member');
  const expired = await a.keys.sign({ iss: issuerUrl(t.config), aud: audience, sub: userId, org_id: org.orgId, iat: Math.floor(Date.now() / 1000) - 120 }, { typ: 'at+jwt', expiresAt: Date.now() - 60_000 });
  expect(await resolve(a, bearer(expired))).toBeNull();
  const fresh = await a.keys.sign({ iss: issuerUrl(t.config), aud: audience, sub: userId, org_id: org.orgId }, { typ: 'at+jwt', expiresAt: Date.now() + 60_000 });
  expect(await resolve(a, bearer(fresh))).toMatchObject({ userId }); // the same claims, in time: accepted
});

test('alg none and HS256 tokens are refused, whatever they claim', async () => {
  const { userId, token } = await memberToken('admin');
  const [header] = token.split('.');
  const { kid } = JSON.parse(Buffer.from(header!, 'base64url').toString()) as { kid: string };
  const claims = { iss: issuerUrl(t.config), aud: audience, sub: userId, org_id: org.orgId, exp: Math.floor(Date.now() / 1000) + 300 };
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const none = `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc(claims)}.`;
  const noneSigned = `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc(claims)}.${enc({})}`;
  const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid }).sign(new TextEncoder().encode('a-guessable-shared-secret-0123456789'));
  for (const forged of [none, noneSigned, hs256]) expect(await resolve(a, bearer(forged))).toBeNull();
  // A real token with its payload swapped keeps a signature that no longer matches.
  const [h, , s] = token.split('.');
  expect(await resolve(a, bearer(`${h}.${enc({ ...claims, org_id: org.orgId, sub: org.owner.userId })}.${s}`))).toBeNull();
});

test('member removed: the token stops working on both nodes within a second', async () => {
  const { userId, token } = await memberToken('member');
  expect(await resolve(a, bearer(token))).not.toBeNull();
  expect(await resolve(b, bearer(token))).not.toBeNull();
  expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${userId}`)).status).toBe(204);
  await within(1000, async () => (await resolve(a, bearer(token))) === null, 'node a');
  await within(1000, async () => (await resolve(b, bearer(token))) === null, 'node b');
});

test('role changed: both nodes answer with the new role within a second', async () => {
  const { userId, token } = await memberToken('admin');
  expect((await resolve(a, bearer(token)))?.role).toBe('admin');
  expect((await resolve(b, bearer(token)))?.role).toBe('admin');
  expect((await org.owner.api('PATCH', `/api/v1/orgs/${org.orgId}/members/${userId}`, { role: 'viewer' })).status).toBe(204);
  for (const node of [a, b]) {
    await within(1000, async () => (await resolve(node, bearer(token)))?.role === 'viewer', 'the new role');
    expect((await resolve(node, bearer(token)))!.permissions.has('members:invite')).toBe(false);
  }
});

test('a disabled user\'s token stops working', async () => {
  const { userId, token } = await memberToken('member');
  expect(await resolve(a, bearer(token))).not.toBeNull();
  await t.db.withoutOrg((em) => em.execute('UPDATE users SET disabled_at = now() WHERE id = ?', [userId]));
  await within(1000, async () => (await resolve(a, bearer(token))) === null, 'the disabled user');
});

describe('service accounts', () => {
  async function serviceAccountToken(role: string, resource = audience) {
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'svc', role });
    expect(sa.status).toBe(201);
    const config = await oidc.discovery(new URL(issuerUrl(t.config)), sa.body.clientId, undefined, oidc.ClientSecretBasic(sa.body.clientSecret), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { resource });
    return { id: sa.body.id as string, token: tokens.access_token };
  }

  test('a service account\'s token (client_credentials, resource = the gateway) acts with its role, never an owner-only permission', async () => {
    const { id, token } = await serviceAccountToken('owner');
    const principal = await resolve(a, bearer(token));
    expect(principal).toMatchObject({ orgId: org.orgId, orgSlug: org.slug, userId: null, role: 'owner', credential: { type: 'service_account', id } });
    for (const ownerOnly of ['org:delete', 'org:transfer', 'billing:manage']) expect(principal!.permissions.has(ownerOnly)).toBe(false);
    expect(principal!.permissions.has('members:invite')).toBe(true);
  });

  test('a service account token for the management API is refused by the gateway', async () => {
    const { token } = await serviceAccountToken('member', `${t.url}/api/v1`);
    expect(await resolve(a, bearer(token))).toBeNull();
  });

  test('service account revoked: its token stops working on both nodes within a second', async () => {
    const { id, token } = await serviceAccountToken('member');
    expect(await resolve(a, bearer(token))).not.toBeNull();
    expect(await resolve(b, bearer(token))).not.toBeNull();
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/service-accounts/${id}`)).status).toBe(200);
    await within(1000, async () => (await resolve(a, bearer(token))) === null, 'node a');
    await within(1000, async () => (await resolve(b, bearer(token))) === null, 'node b');
  });
});

test('a node that is not listening keeps nothing: every request reads the database', async () => {
  const deaf = await gatewayNode(t, { listen: false });
  try {
    const { userId, token } = await memberToken('admin');
    const first = await resolve(deaf, bearer(token));
    expect(first?.role).toBe('admin');
    // The change is announced, but this node cannot hear it: only a fresh read can see it.
    await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?', ['viewer', org.orgId, userId]));
    const second = deaf.credentials.resolve(bearer(token));
    expect(second).toBeInstanceOf(Promise); // not a cache hit
    expect((await second)?.role).toBe('viewer');
  } finally {
    await deaf.stop();
  }
});

test('a node that loses its listening connection forgets its caches and reads the database until it is back', async () => {
  const node = await gatewayNode(t);
  try {
    const { userId, token } = await memberToken('admin');
    const cached = await resolve(node, bearer(token));
    expect(node.credentials.resolve(bearer(token))).toBe(cached);
    await node.notifications.stop(); // as when the connection drops: nothing is heard any more
    await t.db.inOrg(org.orgId, (em) => em.execute('UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?', ['viewer', org.orgId, userId]));
    expect((await resolve(node, bearer(token)))?.role).toBe('viewer');
  } finally {
    await node.stop();
  }
});

describe('refusals of verified tokens are kept briefly, and forgotten by the same announcements as principals', () => {
  /** Reads of one member's credential while `fn` runs (the repository spied on, not replaced). */
  async function memberReads(userId: string, fn: () => Promise<void>): Promise<number> {
    const spy = jest.spyOn(t.app.services.platform, 'findMemberCredential');
    try {
      await fn();
      return spy.mock.calls.filter(([, user]) => user === userId).length;
    } finally {
      spy.mockRestore();
    }
  }

  /** Waits for `token` to be refused on `node`, lets trailing announcements land, then starts from an empty cache. */
  async function refusedFromScratch(node: GatewayNode, token: string): Promise<void> {
    await within(1000, async () => (await resolve(node, bearer(token))) === null, 'the refusal');
    await new Promise((r) => setTimeout(r, 200));
    node.credentials.clear();
  }

  test('a removed member\'s token: N requests cost one database read; re-added (a membership insert), the same token works on both nodes within a second', async () => {
    const { userId, token } = await memberToken('member');
    expect(await resolve(a, bearer(token))).not.toBeNull();
    expect(await resolve(b, bearer(token))).not.toBeNull();
    expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${userId}`)).status).toBe(204);
    await Promise.all([refusedFromScratch(a, token), refusedFromScratch(b, token)]);
    const reads = await memberReads(userId, async () => {
      await Promise.all(Array.from({ length: 5 }, () => resolve(a, bearer(token)))); // concurrent: one lookup
      for (let i = 0; i < 5; i++) expect(await resolve(a, bearer(token))).toBeNull();
      expect(a.credentials.resolve(bearer(token))).toBeNull(); // a kept refusal answers synchronously
      expect(await resolve(b, bearer(token))).toBeNull();
    });
    expect(reads).toBe(2); // one per node

    await t.db.inOrg(org.orgId, (em) => new MembersRepository(em).create({ orgId: org.orgId, userId, role: 'viewer', source: 'invite' }));
    for (const node of [a, b]) {
      const took = await within(1000, async () => (await resolve(node, bearer(token)))?.role === 'viewer', 'the re-added member');
      expect(took).toBeLessThan(1000);
    }
  });

  test('a disabled user\'s refused token works again within a second of re-enabling (user:<user>)', async () => {
    const { userId, token } = await memberToken('member');
    await t.db.withoutOrg((em) => em.execute('UPDATE users SET disabled_at = now() WHERE id = ?', [userId]));
    await refusedFromScratch(a, token);
    expect(await memberReads(userId, async () => {
      for (let i = 0; i < 5; i++) expect(await resolve(a, bearer(token))).toBeNull();
    })).toBe(1);
    await t.db.withoutOrg((em) => em.execute('UPDATE users SET disabled_at = NULL WHERE id = ?', [userId]));
    await within(1000, async () => (await resolve(a, bearer(token)))?.userId === userId, 'the re-enabled user');
  });

  test('a refusal is kept at most refusalTtlMs, and not at all by a node that is not listening', async () => {
    const { userId, token } = await memberToken('member');
    let clock = Date.now();
    const timed = await gatewayNode(t, { now: () => clock, refusalTtlMs: 5_000 });
    const deaf = await gatewayNode(t, { listen: false });
    try {
      expect((await org.owner.api('DELETE', `/api/v1/orgs/${org.orgId}/members/${userId}`)).status).toBe(204);
      await refusedFromScratch(timed, token);
      expect(await memberReads(userId, async () => {
        expect(await resolve(timed, bearer(token))).toBeNull();
        clock += 4_999;
        expect(await resolve(timed, bearer(token))).toBeNull(); // still kept
        clock += 2;
        expect(await resolve(timed, bearer(token))).toBeNull(); // expired: read again
      })).toBe(2);
      expect(await memberReads(userId, async () => {
        for (let i = 0; i < 3; i++) expect(await resolve(deaf, bearer(token))).toBeNull();
      })).toBe(3);
    } finally {
      await Promise.all([timed.stop(), deaf.stop()]);
    }
  });
});
