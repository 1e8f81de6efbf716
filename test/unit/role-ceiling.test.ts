import { withinCaller } from '../../src/modules/roles/role-catalog.ts';
import type { Principal } from '../../src/modules/scope.ts';

// Which roles a caller may hand out: those within its own permissions, or, for a setup link,
// within its grant ceiling only (member's powers), never its own sso:manage/directories:manage.

function principal(permissions: string[], grantCeiling?: string[]): Principal {
  return {
    orgId: '00000000-0000-4000-8000-000000000001', userId: null, role: 'x', permissions: new Set(permissions),
    ...(grantCeiling ? { grantCeiling: new Set(grantCeiling) } : {}),
    credential: { type: 'setup_link', id: 'l', expiresAt: null },
  };
}

const member = ['org:read', 'members:read', 'roles:read', 'teams:read', 'api_keys:create'];
const link = principal(['org:read', 'sso:manage'], member);

test('a setup link may hand out a role within member\'s powers', () => {
  expect(withinCaller({ principal: link }, ['org:read', 'members:read'])).toBe(true);
});

test('a setup link may not hand out its own sso:manage through a custom role', () => {
  expect(withinCaller({ principal: link }, ['org:read', 'sso:manage'])).toBe(false);
  expect(withinCaller({ principal: principal(['org:read', 'directories:manage'], member) }, ['directories:manage'])).toBe(false);
});

test('a caller without a ceiling is bounded by its own permissions', () => {
  const admin = principal(['org:read', 'sso:manage', 'members:read']);
  expect(withinCaller({ principal: admin }, ['sso:manage', 'org:read'])).toBe(true);
  expect(withinCaller({ principal: admin }, ['billing:manage'])).toBe(false);
});

test('no principal (internal work) is bounded by nothing', () => {
  expect(withinCaller({ principal: null }, ['billing:manage'])).toBe(true);
});
