import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { freePort } from './cli.ts';
import { testLoginRole } from './login-role.ts';
import { loadConfig } from '../../config/config.loader.ts';
import type { Config } from '../../config/config.schema.ts';
import { createApp, type App } from '../../src/app.ts';
import { databaseOptions, openDatabase } from '../../src/db/orm.ts';
import type { Database } from '../../src/db/database.ts';

export interface TestApp {
  app: App;
  db: Database;
  config: Config;
  url: string;
  close(): Promise<void>;
}

/**
 * On PostgreSQL the app logs in as it should in production: a login role that owns nothing and
 * may only switch to gatehouse_app / gatehouse_platform (made by global-setup); the owner runs
 * the migrations.
 */
function testDatabaseEnv(): Record<string, string> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return {};
  const login = new URL(url);
  login.username = testLoginRole;
  login.password = '';
  return { DATABASE_URL: login.toString(), DATABASE_MIGRATION_URL: url };
}

/** The real app on an ephemeral port, on TEST_DATABASE_URL or a fresh embedded database. */
export async function startApp(env: Record<string, string> = {}, port = 0): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    GATEHOUSE_DATA_DIR: 'memory://',
    // Every test app is a node of one deployment: on a shared PostgreSQL they must open each
    // other's sealed secrets (signing keys), as real nodes sharing GATEHOUSE_SECRET_KEY do.
    GATEHOUSE_SECRET_KEY: 'test-only-secret-key-0123456789abcdefghijklmnopq',
    LOG_LEVEL: 'silent',
    ...testDatabaseEnv(),
    ...env,
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const db = await openDatabase({ ...databaseOptions(config, logger), poolSize: 4 });
  const app = await createApp(config, logger, db).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });
  const server = await app.listen(port);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    db,
    config,
    url,
    async close() {
      await app.close();
      await db.close();
    },
  };
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** A tiny HTTP client bound to one credential. */
export function client(baseUrl: string, key?: string) {
  return async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (exports): keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers, text };
  };
}
export type Client = ReturnType<typeof client>;

/**
 * The app on a port chosen before it starts, with PUBLIC_URL pointing at it: the OIDC issuer's
 * URLs (PUBLIC_URL/oidc) must be where a relying party in the test reaches them.
 */
export async function startAppAtPublicUrl(env: Record<string, string> = {}): Promise<TestApp> {
  const port = await freePort();
  return startApp({ PUBLIC_URL: `http://127.0.0.1:${port}`, ...env }, port);
}
