import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, defaults, envNames, type Config } from './config.schema.ts';

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

function readFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`GATEHOUSE_CONFIG ${path}: ${(err as Error).message}`]);
  }
  if (parsed == null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError([`GATEHOUSE_CONFIG ${path}: must be a mapping`]);
  return parsed as Record<string, unknown>;
}

function fromEnv(env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(envNames)) {
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/**
 * Reads defaults, then the optional YAML file, then the environment; validates the result and
 * reports every problem at once. Warnings (insecure dev defaults) go to `warn`.
 */
export function loadConfig(env: Env = process.env, warn: (msg: string) => void = console.warn): Config {
  const file = env.GATEHOUSE_CONFIG ? readFile(env.GATEHOUSE_CONFIG) : {};
  const merged: Record<string, unknown> = { ...defaults, ...file, ...fromEnv(env) };
  merged.publicUrl ??= `http://localhost:${merged.port}`;
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const cfg = result.data;
  const problems: string[] = [];
  if (cfg.env === 'production') {
    if (!cfg.secretKey) problems.push('secretKey: GATEHOUSE_SECRET_KEY is required in production');
    if (!cfg.databaseUrl) problems.push('databaseUrl: DATABASE_URL is required in production (the embedded database is for development)');
    if (!cfg.publicUrl.startsWith('https://')) problems.push('publicUrl: PUBLIC_URL must be https in production');
    if (cfg.stripeSecretKey && /^(sk|rk)_test_/.test(cfg.stripeSecretKey)) problems.push('stripeSecretKey: a test-mode Stripe key is refused in production');
    // The SDK sends the secret key to this host: in production only over TLS.
    if (cfg.stripeApiBase && !cfg.stripeApiBase.startsWith('https://')) problems.push('stripeApiBase: STRIPE_API_BASE must be https in production (plain http is for local test stand-ins)');
  }
  for (const provider of ['google', 'github'] as const) {
    if (!cfg[`${provider}ClientId`] !== !cfg[`${provider}ClientSecret`]) {
      problems.push(`${provider}ClientSecret: ${provider.toUpperCase()}_CLIENT_ID and ${provider.toUpperCase()}_CLIENT_SECRET go together`);
    }
  }
  if (!cfg.stripeSecretKey !== !cfg.stripeWebhookSecret) {
    problems.push('stripeWebhookSecret: STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET go together (without the secret no webhook could be trusted)');
  }
  if (cfg.upstreamUrl && !cfg.routesFile) {
    problems.push('routesFile: UPSTREAM_URL needs GATEHOUSE_ROUTES, the route policy the gateway enforces (without one it would deny everything)');
  }
  if (cfg.gatewayWorkers > 1 && !cfg.databaseUrl) {
    problems.push('gatewayWorkers: GATEWAY_WORKERS above 1 needs DATABASE_URL (the embedded database lives in one process)');
  }
  if (problems.length) throw new ConfigError(problems);
  const secretKey = cfg.secretKey ?? devSecretKey(cfg.dataDir, warn);
  return Object.freeze({ ...cfg, publicUrl: cfg.publicUrl.replace(/\/+$/, ''), secretKey });
}

// Development only: a generated key persisted beside the embedded database, so restarts keep
// working. Never used in production (refused above).
function devSecretKey(dataDir: string, warn: (msg: string) => void): string {
  if (dataDir.startsWith('memory:')) return randomBytes(32).toString('base64url');
  const path = join(dataDir, 'secret.key');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  warn(`GATEHOUSE_SECRET_KEY is not set: generated a development key in ${path}. Set GATEHOUSE_SECRET_KEY in production.`);
  return key;
}

