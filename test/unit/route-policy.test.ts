import { readFileSync } from 'node:fs';
import { RoutePolicy, RoutePolicyError } from '../../src/gateway/route-policy.ts';

const orgId = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const workspaceId = '0190a1b2-c3d4-7e5f-8a9b-000000000001';

const issueExample = `permissions:              # the product's own permissions and the built-in roles that hold them
  agents:read:  [owner, admin, member, viewer]
  agents:write: [owner, admin, member]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
  - match: POST /orgs/:orgId/agents
    permission: agents:write
  - match: GET /public/*
    auth: none
`;

function errorsOf(text: string): { line: number; message: string }[] {
  try {
    RoutePolicy.parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(RoutePolicyError);
    return [...(err as RoutePolicyError).errors];
  }
  throw new Error('the policy was accepted');
}

describe('parsing', () => {
  test('the issue\'s example parses: declared permissions and the built-in roles holding them', () => {
    const policy = RoutePolicy.parse(issueExample);
    expect([...policy.declared]).toEqual(['agents:read', 'agents:write']);
    expect(policy.ofBuiltinRole('member')).toEqual(['agents:read', 'agents:write']);
    expect(policy.ofBuiltinRole('viewer')).toEqual(['agents:read']);
    expect(policy.ofBuiltinRole('support')).toEqual([]);
  });

  test('config/routes.example.yaml parses', () => {
    const policy = RoutePolicy.parse(readFileSync(new URL('../../config/routes.example.yaml', import.meta.url), 'utf8'));
    expect(policy.declared.has('agents:write')).toBe(true);
    expect(policy.match('GET', `/orgs/${orgId}/workspaces/${workspaceId}/deployments`)).toMatchObject({ workspaceId, orgId });
  });

  test('an undeclared permission is refused with its line', () => {
    const text = issueExample.replace('permission: agents:write', 'permission: agents:writ');
    expect(errorsOf(text)).toEqual([{ line: 8, message: 'permission "agents:writ" is not declared under `permissions:`' }]);
  });

  test('every problem is reported at once, in line order', () => {
    const text = [
      'permissions:',
      '  agents:read: [owner, support]', // 2: custom role
      '  members:read: [owner]', // 3: Gatehouse's own
      '  Agents:Write: [owner]', // 4: shape
      'routes:',
      '  - match: FETCH /x', // 6: method
      '    permission: agents:read',
      '  - match: GET orgs', // 8: path without /
      '    permission: agents:read',
      '  - match: GET /orgs/:orgId/x/:orgId', // 10: duplicate param
      '    permission: agents:read',
      '  - match: GET /a/*/b', // 12: * not last
      '    auth: none',
      '  - match: GET /a', // 14: both
      '    permission: agents:read',
      '    auth: none',
      '  - match: GET /b', // 17: neither
      '  - match: GET /c', // 18
      '    permission: agents:read',
      '    cache: true', // 20: unknown key
      '  - match: GET /orgs/:orgId/public', // 21: org param on a public route
      '    auth: none',
      '  - match: GET /d//e', // 23: empty segment
      '    permission: agents:read',
      '  - match: GET /%2e%2e/f', // 25: encoding
      '    permission: agents:read',
      '  - match: GET /g', // 27: auth other than none
      '    auth: optional',
      '  - match: GET /h', // 29: a Gatehouse permission on a route
      '    permission: members:read',
      'extra: 1', // 31
    ].join('\n');
    const errors = errorsOf(text);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 6, 8, 10, 12, 16, 17, 20, 21, 23, 25, 28, 30, 31]);
    expect(errors[0]!.message).toMatch(/"support" is not a built-in role/);
    expect(errors[1]!.message).toMatch(/one of Gatehouse's own/);
    expect(errors[2]!.message).toMatch(/must look like resource:action/);
    expect(errors[3]!.message).toMatch(/method "FETCH" is not one of/);
    expect(errors[5]!.message).toMatch(/names :orgId twice/);
    expect(errors[6]!.message).toMatch(/\* may only be the last segment/);
    expect(errors[7]!.message).toMatch(/not both/);
    expect(errors[8]!.message).toMatch(/needs a `permission:`/);
    expect(errors[9]!.message).toMatch(/unknown route key "cache"/);
    expect(errors[10]!.message).toMatch(/cannot be `auth: none`/);
    expect(errors[11]!.message).toMatch(/empty segment/);
    expect(errors[12]!.message).toMatch(/no %-encoding/);
    expect(errors[13]!.message).toMatch(/can only be `none`/);
    expect(errors[14]!.message).toMatch(/one of Gatehouse's own/);
    expect(errors[15]!.message).toMatch(/unknown key "extra"/);
  });

  test('YAML syntax errors and duplicate keys name their line', () => {
    expect(errorsOf('permissions:\n  a:b: [owner]\n  a:b: [admin]\nroutes: []\n')).toEqual([{ line: 3, message: expect.stringMatching(/unique/i) }]);
    expect(errorsOf('routes:\n  - match: GET /a\n    permission: [unclosed\n')[0]!.line).toBeGreaterThanOrEqual(3);
  });

  test('a product permission the owner does not hold is refused: nobody could ever grant it', () => {
    expect(errorsOf('permissions:\n  a:b: [admin]\n  c:d: []\n  e:f:\nroutes: []\n')).toEqual([
      { line: 2, message: 'permission "a:b" must list owner: the owner holds every permission' },
      { line: 3, message: 'permission "c:d" must list owner: the owner holds every permission' },
      { line: 4, message: expect.stringMatching(/needs a list of the built-in roles/) },
    ]);
  });

  test('an empty file, a list at the top and a missing routes: are refused', () => {
    expect(errorsOf('')).toEqual([{ line: 1, message: expect.stringMatching(/must be a mapping/) }]);
    expect(errorsOf('- a\n')[0]!.message).toMatch(/must be a mapping/);
    expect(errorsOf('permissions:\n  a:b: [owner]\n')).toEqual([{ line: 1, message: '`routes:` is missing' }]);
  });

  test('a route that repeats an earlier match is refused: it could never apply', () => {
    const text = 'permissions:\n  a:b: [owner]\nroutes:\n  - match: GET /x/:id\n    permission: a:b\n  - match: GET /x/:other\n    auth: none\n';
    expect(errorsOf(text)).toEqual([{ line: 6, message: 'this route repeats the match of line 4, so it could never apply' }]);
  });

  test('the error message lists each problem as "line N: ..."', () => {
    expect(() => RoutePolicy.parse('routes:\n  - match: GET /a\n    permission: x:y\n', '/etc/routes.yaml'))
      .toThrow('/etc/routes.yaml rejected:\n  line 3: permission "x:y" is not declared under `permissions:`');
  });
});

describe('matching', () => {
  const policy = RoutePolicy.parse(`
permissions:
  agents:read: [owner, admin, member, viewer]
  agents:write: [owner, admin]
  deploys:read: [owner]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
  - match: POST /orgs/:orgId/agents
    permission: agents:write
  - match: GET /orgs/:orgId/agents/special
    permission: agents:write
  - match: GET /orgs/:orgId/agents/:agentId
    permission: agents:read
  - match: "* /by-slug/:orgSlug/agents"
    permission: agents:read
  - match: GET /orgs/:orgId/workspaces/:workspaceId/deploys/*
    permission: deploys:read
  - match: GET /public/*
    auth: none
  - match: GET /
    auth: none
`);

  test('method and path: params capture the org, the slug and the workspace', () => {
    expect(policy.match('GET', `/orgs/${orgId}/agents`)).toEqual({ kind: 'protected', permission: 'agents:read', orgId });
    expect(policy.match('POST', `/orgs/${orgId}/agents`)).toEqual({ kind: 'protected', permission: 'agents:write', orgId });
    expect(policy.match('DELETE', '/by-slug/acme/agents')).toEqual({ kind: 'protected', permission: 'agents:read', orgSlug: 'acme' });
    expect(policy.match('GET', `/orgs/${orgId}/workspaces/${workspaceId}/deploys/a/b`))
      .toEqual({ kind: 'protected', permission: 'deploys:read', orgId, workspaceId });
  });

  test('the first route in file order wins', () => {
    expect(policy.match('GET', `/orgs/${orgId}/agents/special`)).toMatchObject({ permission: 'agents:write' });
    expect(policy.match('GET', `/orgs/${orgId}/agents/other`)).toMatchObject({ permission: 'agents:read' });
  });

  test('file order decides between a param and a literal, and between * and a longer pattern', () => {
    const p = RoutePolicy.parse(`
permissions:
  a:one: [owner]
  a:two: [owner]
routes:
  - match: GET /x/:id
    permission: a:one
  - match: GET /x/special
    permission: a:two
  - match: GET /y/*
    permission: a:one
  - match: GET /y/z/:id
    permission: a:two
  - match: GET /z/:id/w
    permission: a:two
  - match: GET /z/*
    permission: a:one
`);
    expect(p.match('GET', '/x/special')).toMatchObject({ permission: 'a:one' });
    expect(p.match('GET', '/y/z/1')).toMatchObject({ permission: 'a:one' });
    expect(p.match('GET', '/z/1/w')).toMatchObject({ permission: 'a:two' });
    expect(p.match('GET', '/z/1/v')).toMatchObject({ permission: 'a:one' });
    expect(p.match('GET', '/z/1/w/deeper/than/any/pattern')).toMatchObject({ permission: 'a:one' });
  });

  test('public routes and the bare root', () => {
    expect(policy.match('GET', '/public/a')).toEqual({ kind: 'public' });
    expect(policy.match('GET', '/public/a/b/c')).toEqual({ kind: 'public' });
    expect(policy.match('GET', '/')).toEqual({ kind: 'public' });
  });

  test.each([
    ['another method', 'PUT', `/orgs/${orgId}/agents`],
    ['HEAD is not GET', 'HEAD', `/orgs/${orgId}/agents`],
    ['a trailing slash', 'GET', `/orgs/${orgId}/agents/`],
    ['an empty param', 'GET', '/orgs//agents'],
    ['an extra segment', 'GET', `/orgs/${orgId}/agents/a/b`],
    ['a missing segment', 'GET', '/orgs/agents'],
    ['a prefix only', 'GET', '/orgs'],
    ['* needs at least one segment', 'GET', '/public'],
    ['* needs a non-empty one', 'GET', '/public/'],
    ['* after an empty segment', 'GET', '/public//a'],
    ['case matters', 'GET', `/ORGS/${orgId}/agents`],
    ['no leading slash', 'GET', 'orgs/x/agents'],
    ['the empty path', 'GET', ''],
    ['a percent-encoded literal is not decoded', 'GET', `/orgs/${orgId}/%61gents`],
    ['an unknown method matches only * routes', 'PROPFIND', `/orgs/${orgId}/agents`],
  ])('no match: %s', (_name, method, path) => {
    expect(policy.match(method, path)).toBeNull();
  });

  test('an unknown method still matches a * route', () => {
    expect(policy.match('PROPFIND', '/by-slug/acme/agents')).toMatchObject({ orgSlug: 'acme' });
  });

  test('a param holds the raw segment, encoded characters included', () => {
    expect(policy.match('GET', '/by-slug/a%2Fb/agents')).toMatchObject({ orgSlug: 'a%2Fb' });
  });

  test('a route without path values answers one shared decision (no allocation per request)', () => {
    const p = RoutePolicy.parse('permissions:\n  a:b: [owner]\nroutes:\n  - match: GET /x/:id\n    permission: a:b\n');
    expect(p.match('GET', '/x/1')).toBe(p.match('GET', '/x/2'));
    expect(Object.isFrozen(p.match('GET', '/x/1'))).toBe(true);
  });
});
