import type { Context } from 'koa';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { ConsoleCookies, type ConsoleSession } from '../../src/admin/console-session.ts';

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

/** A sealed session cookie as the console would set it (its tokens are never used here). */
async function sessionCookie(): Promise<string> {
  let value = '';
  const ctx = { cookies: { set: (_name: string, v: string) => void (value = v) } } as unknown as Context;
  const session: ConsoleSession = {
    userId: '00000000-0000-4000-8000-000000000001', orgId: '00000000-0000-4000-8000-000000000002', role: 'owner', permissions: [],
    accessToken: 'at', accessTokenExpiresAt: Math.floor(Date.now() / 1000) + 600, refreshToken: 'rt', csrf: 'the-session-csrf',
  };
  await new ConsoleCookies(t.config).setSession(ctx, session);
  return `gh_console=${value}`;
}

test('a sign-out post without the session\'s CSRF token (another site\'s form) changes nothing and offers a sign-out form', async () => {
  const cookie = await sessionCookie();
  for (const body of ['', 'csrf=guessed']) {
    const res = await fetch(`${t.url}/admin/sign-out`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull(); // not sent on to end the issuer's session
    expect(res.headers.getSetCookie().some((c) => c.startsWith('gh_console='))).toBe(false); // the session cookie is untouched
    const page = await res.text();
    expect(page).toContain('action="/admin/sign-out"');
    expect(page).toContain('name="csrf" value="the-session-csrf"');
  }
  // The session still opens the console (it is sent on to its org, not to sign in).
  const still = await fetch(`${t.url}/admin/`, { redirect: 'manual', headers: { cookie } });
  expect(still.headers.get('location')).toBe('/admin/orgs/00000000-0000-4000-8000-000000000002');
});
