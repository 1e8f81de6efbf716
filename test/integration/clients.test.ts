import { createPlatformClient } from '../../src/oidc/clients.service.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { cliSandbox } from '../helpers/cli.ts';

let t: TestApp;
const cli = cliSandbox();

beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => {
  await t.close();
  cli.cleanup();
});

test('clients create --json prints the client id and a secret; the issuer knows the client', async () => {
  const res = await cli.run(['clients', 'create', '--name', 'Web app', '--redirect-uri', 'https://app.example.com/callback', '--post-logout-uri', 'https://app.example.com/', '--json']);
  expect(res.code).toBe(0);
  const created = JSON.parse(res.stdout);
  expect(created).toEqual({ clientId: expect.stringMatching(/^cl_[0-9a-f]{24}$/), clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
  expect(res.stderr).not.toContain(created.clientSecret);
});

test('a public client gets no secret', async () => {
  const res = await cli.run(['clients', 'create', '--name', 'SPA', '--redirect-uri', 'http://localhost:5173/cb', '--public', '--json']);
  expect(res.code).toBe(0);
  expect(JSON.parse(res.stdout).clientSecret).toBeNull();
});

test.each([
  ['a plain-http redirect to another host', 'http://app.example.com/cb'],
  ['a redirect with a fragment', 'https://app.example.com/cb#x'],
  ['a relative redirect', '/callback'],
])('clients create refuses %s', async (_name, uri) => {
  const res = await cli.run(['clients', 'create', '--name', 'Bad', '--redirect-uri', uri, '--json']);
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/redirectUris\.0/);
  expect(res.stdout).toBe('');
});

test('the provider loads a platform client with exact redirect URIs and its opened secret', async () => {
  const created = await createPlatformClient(t.db, t.app.services.secrets, { name: 'App', redirectUris: ['https://app.example.com/cb'] });
  const client = await t.app.issuer.provider.Client.find(created.clientId);
  expect(client?.redirectUris).toEqual(['https://app.example.com/cb']);
  expect(client?.clientSecret).toBe(created.clientSecret);
  expect(client?.redirectUriAllowed('https://app.example.com/cb')).toBe(true);
  expect(client?.redirectUriAllowed('https://app.example.com/cb/')).toBe(false);
  expect(client?.redirectUriAllowed('https://app.example.com/cb?x=1')).toBe(false);
});

test('a public client authenticates with none and must use PKCE', async () => {
  const created = await createPlatformClient(t.db, t.app.services.secrets, { name: 'SPA', redirectUris: ['https://spa.example.com/cb'], public: true });
  const client = await t.app.issuer.provider.Client.find(created.clientId);
  expect(client?.clientAuthMethod).toBe('none');
});
