import { mkdtempSync as makeTempDir, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../config/config.loader.ts';

const quiet = () => {};
const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function mkdtempSync(prefix: string): string {
  const dir = makeTempDir(prefix);
  made.push(dir);
  return dir;
}
const key = 'k'.repeat(43);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, quiet);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('defaults give a working development config', () => {
  const config = loadConfig({ GATEHOUSE_DATA_DIR: 'memory://' }, quiet);
  expect(config).toMatchObject({ env: 'development', port: 8080, gatewayPort: 8081, publicUrl: 'http://localhost:8080', invitationTtlHours: 168 });
  expect(Object.isFrozen(config)).toBe(true);
});

test('every problem is listed at once', () => {
  const problems = problemsOf({ PORT: 'eighty', PUBLIC_URL: 'ftp://x', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', GATEHOUSE_DATA_DIR: 'memory://' });
  expect(problems.map((p) => p.split(':')[0])).toEqual(expect.arrayContaining(['port', 'publicUrl', 'databaseUrl', 'logLevel']));
  expect(problems).toHaveLength(4);
});

test('production refuses a missing secret key, the embedded database and plain http', () => {
  const problems = problemsOf({ NODE_ENV: 'production', PUBLIC_URL: 'http://gh.example.com', GATEHOUSE_DATA_DIR: 'memory://' });
  expect(problems).toHaveLength(3);
  expect(problems.join('\n')).toMatch(/GATEHOUSE_SECRET_KEY is required/);
  expect(problems.join('\n')).toMatch(/DATABASE_URL is required/);
  expect(problems.join('\n')).toMatch(/must be https/);
});

test('L6: production refuses STRIPE_API_BASE over plain http, accepts https', () => {
  const base = { NODE_ENV: 'production', PUBLIC_URL: 'https://gh.example.com/', DATABASE_URL: 'postgres://db/gh', GATEHOUSE_SECRET_KEY: key };
  expect(problemsOf({ ...base, STRIPE_API_BASE: 'http://127.0.0.1:12111' })).toEqual([expect.stringMatching(/^stripeApiBase: STRIPE_API_BASE must be https in production/)]);
  expect(loadConfig({ ...base, STRIPE_API_BASE: 'https://stripe-proxy.internal:8443' }, quiet).stripeApiBase).toBe('https://stripe-proxy.internal:8443');
  expect(loadConfig({ NODE_ENV: 'development', GATEHOUSE_DATA_DIR: 'memory://', STRIPE_API_BASE: 'http://127.0.0.1:12111' }, quiet).stripeApiBase).toBe('http://127.0.0.1:12111');
});

test('production accepts a complete config', () => {
  const config = loadConfig({ NODE_ENV: 'production', PUBLIC_URL: 'https://gh.example.com/', DATABASE_URL: 'postgres://db/gh', GATEHOUSE_SECRET_KEY: key }, quiet);
  expect(config.publicUrl).toBe('https://gh.example.com');
  expect(config.secretKey).toBe(key);
});

test('a short secret key is refused', () => {
  expect(problemsOf({ GATEHOUSE_SECRET_KEY: 'short', GATEHOUSE_DATA_DIR: 'memory://' })).toEqual([expect.stringMatching(/^secretKey:/)]);
});

test('development generates a key once, persists it with a warning, and reuses it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
  const warnings: string[] = [];
  const first = loadConfig({ GATEHOUSE_DATA_DIR: dir }, (w) => warnings.push(w));
  const second = loadConfig({ GATEHOUSE_DATA_DIR: dir }, (w) => warnings.push(w));
  expect(first.secretKey).toBe(second.secretKey);
  expect(readFileSync(join(dir, 'secret.key'), 'utf8').trim()).toBe(first.secretKey);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/GATEHOUSE_SECRET_KEY is not set/);
});

test('a YAML file sets keys by their camelCase names; the environment wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, 'port: 9000\ninvitationTtlHours: 48\nlogLevel: debug\n');
  const config = loadConfig({ GATEHOUSE_CONFIG: file, LOG_LEVEL: 'warn', GATEHOUSE_DATA_DIR: 'memory://' }, quiet);
  expect(config).toMatchObject({ port: 9000, invitationTtlHours: 48, logLevel: 'warn' });
});

test('an unknown key in the file is an error, not ignored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, 'prot: 9000\n');
  expect(problemsOf({ GATEHOUSE_CONFIG: file, GATEHOUSE_DATA_DIR: 'memory://' }).join()).toMatch(/prot/);
});

test('a file that is not YAML is reported with its path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
  const file = join(dir, 'gatehouse.yaml');
  writeFileSync(file, 'port: [1,\n');
  expect(problemsOf({ GATEHOUSE_CONFIG: file }).join()).toMatch(/gatehouse\.yaml/);
});

test('the shipped example config is valid', () => {
  const config = loadConfig({ GATEHOUSE_CONFIG: 'config/gatehouse.example.yaml', GATEHOUSE_DATA_DIR: 'memory://' }, quiet);
  expect(config.port).toBe(8080);
});

test('a platform sign-in provider needs its client id and secret together', () => {
  const base = { GATEHOUSE_DATA_DIR: 'memory://', GATEHOUSE_SECRET_KEY: key };
  expect(problemsOf({ ...base, GOOGLE_CLIENT_ID: 'id' })).toEqual([expect.stringMatching(/GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together/)]);
  expect(problemsOf({ ...base, GITHUB_CLIENT_SECRET: 'secret' })).toEqual([expect.stringMatching(/GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET/)]);
  expect(problemsOf({ ...base, GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 'secret' })).toEqual([]);
});

test('SSO settings are validated: clock skew bounded, DNS servers as IP[:port]', () => {
  const base = { GATEHOUSE_DATA_DIR: 'memory://', GATEHOUSE_SECRET_KEY: key };
  expect(problemsOf({ ...base, GATEHOUSE_SAML_CLOCK_SKEW_SECONDS: '3600' })).toEqual([expect.stringMatching(/^samlClockSkewSeconds/)]);
  expect(problemsOf({ ...base, GATEHOUSE_DNS_SERVERS: 'dns.example;rm' })).toEqual([expect.stringMatching(/^dnsServers/)]);
  expect(loadConfig({ ...base, GATEHOUSE_DNS_SERVERS: '127.0.0.1:5353' }, quiet).dnsServers).toBe('127.0.0.1:5353');
});
