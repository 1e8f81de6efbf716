import { localReturn } from '../../src/admin/admin.routes.ts';

// Where the console may send the browser after sign-in: its own paths only (no open redirect).

test.each([
  '/admin', '/admin/orgs/0b6c9a4e-1111-4222-8333-444455556666/members', '/admin/platform',
])('%s is a console path and is kept', (path) => {
  expect(localReturn(path)).toBe(path);
});

test.each([
  'https://evil.example/admin', '//evil.example/admin', '/admin/../oidc', '/adminx', 'javascript:alert(1)',
  '/admin\\evil', '/admin/%2e%2e/oidc', '/admin?x=1', '/admin//evil.example', ' /admin', undefined, ['/admin'],
])('%s is refused: the sign-in returns to /admin', (value) => {
  expect(localReturn(value)).toBe('/admin');
});
