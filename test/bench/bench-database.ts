import pg from 'pg';

// Where a benchmark runs: BENCH_DATABASE_URL as given (kept), else a fresh database on the local
// PostgreSQL (dropped afterwards), else embedded PGlite in memory when no PostgreSQL answers.

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  kind: 'postgresql' | 'pglite';
  /** DATABASE_URL for the app; undefined means embedded PGlite. */
  url: string | undefined;
  description: string;
  drop(): Promise<void>;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

export async function provisionDatabase(): Promise<BenchDatabase> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given) {
    return { kind: 'postgresql', url: given, description: 'PostgreSQL at BENCH_DATABASE_URL (kept)', drop: async () => undefined };
  }
  let admin: pg.Client;
  try {
    admin = await connect(LOCAL_POSTGRES);
  } catch (err) {
    const reason = (err as Error).message || String(err);
    return {
      kind: 'pglite',
      url: undefined,
      description: `embedded PGlite in memory: PostgreSQL not reachable at ${new URL(LOCAL_POSTGRES).host} (${reason})`,
      drop: async () => undefined,
    };
  }
  const name = `gatehouse_bench_${Date.now()}`;
  let version: string;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  } finally {
    await admin.end();
  }
  const url = new URL(LOCAL_POSTGRES);
  url.pathname = `/${name}`;
  return {
    kind: 'postgresql',
    url: url.href,
    description: `PostgreSQL ${version}, fresh database ${name} (dropped at the end)`,
    async drop() {
      const client = await connect(LOCAL_POSTGRES);
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
