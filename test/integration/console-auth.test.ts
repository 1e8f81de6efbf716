import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';

// The console's doors without a browser: where an anonymous visitor is sent, what a forged or
// stale cookie gets, and that the sign-in never returns anywhere but a console path.

let t: TestApp;

beforeAll(async () => {
  t = await startAppAtPublicUrl();
});

afterAll(async () => {
  await t?.close();
});

test('an anonymous visitor is sent to sign in, with the console path to come back to', async () => {
  const res = await fetch(`${t.url}/admin/orgs/00000000-0000-4000-8000-000000000000/members`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/admin/sign-in?return_to=%2Fadmin%2Forgs%2F00000000-0000-4000-8000-000000000000%2Fmembers');
});

test('sign-in goes to the issuer with PKCE, the console client and the management API as resource', async () => {
  const res = await fetch(`${t.url}/admin/sign-in`, { redirect: 'manual' });
  const to = new URL(res.headers.get('location')!);
  expect(to.origin + to.pathname).toBe(`${t.url}/oidc/auth`);
  expect(to.searchParams.get('client_id')).toBe('gatehouse-console');
  expect(to.searchParams.get('code_challenge_method')).toBe('S256');
  expect(to.searchParams.get('resource')).toBe(`${t.url}/api/v1`);
  expect(res.headers.getSetCookie().some((c) => c.startsWith('gh_console_flow=') && /httponly/i.test(c) && /samesite=lax/i.test(c))).toBe(true);
});

test('a callback without the flow cookie is refused and sets no session', async () => {
  const res = await fetch(`${t.url}/admin/callback?code=abc&state=def`, { redirect: 'manual' });
  expect(res.status).toBe(400);
  expect(res.headers.getSetCookie().some((c) => c.startsWith('gh_console='))).toBe(false);
});

test('a forged or tampered session cookie is as good as none', async () => {
  for (const cookie of ['gh_console=abc', 'gh_console=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC']) {
    const res = await fetch(`${t.url}/admin/`, { redirect: 'manual', headers: { cookie } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/admin\/sign-in/);
  }
});

test('the console\'s assets ship with Gatehouse and its pages carry a strict CSP', async () => {
  const css = await fetch(`${t.url}/admin/assets/console.css`);
  expect(css.status).toBe(200);
  expect(css.headers.get('content-type')).toContain('text/css');
  expect((await fetch(`${t.url}/admin/assets/../app.ts`)).status).toBe(404);
  expect((await fetch(`${t.url}/admin/assets/nope.js`)).status).toBe(404);
  const page = await fetch(`${t.url}/admin/signed-out`);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
});
