import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { loadConfig } from '../../config/config.loader.ts';
import type { Config } from '../../config/config.schema.ts';
import { createApp, type App } from '../../src/app.ts';
import { openDatabase } from '../../src/db/orm.ts';
import type { Database } from '../../src/db/database.ts';

export interface TestApp {
  app: App;
  db: Database;
  config: Config;
  url: string;
  close(): Promise<void>;
}

/** The real app on an ephemeral port, on TEST_DATABASE_URL or a fresh embedded database. */
export async function startApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    GATEHOUSE_DATA_DIR: 'memory://',
    LOG_LEVEL: 'silent',
    ...(process.env.TEST_DATABASE_URL ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
    ...env,
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger, poolSize: 4 });
  const app = await createApp(config, logger, db);
  const server = await app.listen(0);
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
