import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { MikroORM, Options } from '@mikro-orm/sql';
import { Migrator } from '@mikro-orm/migrations';
import { PgliteDriver, MikroORM as PgliteORM } from '@mikro-orm/pglite';
import { MikroORM as PostgresORM } from '@mikro-orm/postgresql';
import { CompiledQuery, type DatabaseConnection } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import { migrationsList } from '../../migrations/index.ts';
import { lockDataDir } from './embedded-lock.ts';
import { entities, orgEntities } from './entities.ts';
import { APP_ROLE, Database } from './database.ts';
import { Organization } from '../modules/orgs/organization.entity.ts';

export interface DatabaseOptions {
  databaseUrl?: string;
  /** The role that owns the schema, for migrations; defaults to databaseUrl. */
  migrationUrl?: string;
  /** Embedded PostgreSQL directory, or "memory://" for a throwaway one. */
  dataDir: string;
  logger: Logger;
  poolSize?: number;
}

function baseOptions(logger: Logger) {
  return {
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false },
    // Tenancy lock 3: every org entity is filtered by org; the parameter is required, so a query
    // made without an org scope throws instead of reading every org.
    filters: {
      org: { name: 'org', cond: (args) => ({ orgId: args.orgId }), default: true, args: true, entity: orgEntities },
      orgSelf: { name: 'orgSelf', cond: (args) => ({ id: args.orgId }), default: true, args: true, entity: [Organization] },
    },
    allowGlobalContext: false,
    debug: false,
    logger: (message: string) => logger.debug({ orm: message }, 'database'),
  } satisfies Partial<Options>;
}

/**
 * Opens the database: real PostgreSQL when a URL is given, else embedded PGlite. Migrations run
 * first as the connecting role; the returned ORM's connections then default to gatehouse_app, so
 * a query that escapes the request scope still meets row-level security (it fails closed).
 */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const admin = await PostgresORM.init({ ...baseOptions(opts.logger), clientUrl: opts.migrationUrl ?? opts.databaseUrl, pool: { min: 0, max: 1 } });
    try {
      await admin.migrator.up();
    } finally {
      await admin.close(true);
    }
    const orm = await PostgresORM.init({
      ...baseOptions(opts.logger),
      clientUrl: opts.databaseUrl,
      pool: { min: 1, max: opts.poolSize ?? 10 },
      onCreateConnection: async (conn) => {
        await (conn as DatabaseConnection).executeQuery(CompiledQuery.raw(`SET ROLE ${APP_ROLE}`));
      },
    });
    // The listening connection logs in as the app does: LISTEN needs no grant.
    return new Database(orm as unknown as MikroORM, () => orm.close(true), { kind: 'postgresql', url: opts.databaseUrl });
  }
  return openEmbedded(opts);
}

async function openEmbedded(opts: DatabaseOptions): Promise<Database> {
  const dataDir = opts.dataDir.startsWith('memory:') ? 'memory://' : join(opts.dataDir, 'pgdata');
  let unlock = () => {};
  if (dataDir !== 'memory://') {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  try {
    const pglite = await PGlite.create(dataDir);
    const orm = await PgliteORM.init({ ...baseOptions(opts.logger), driver: PgliteDriver, driverOptions: { pglite } });
    await orm.migrator.up();
    // PGlite has one session and it is a superuser: drop to the app role for everything after.
    await pglite.query(`SET ROLE ${APP_ROLE}`);
    return new Database(orm as unknown as MikroORM, async () => {
      await orm.close(true);
      await pglite.close();
      unlock();
    }, { kind: 'pglite', pglite });
  } catch (err) {
    unlock();
    throw err;
  }
}

/** The database settings of a config. */
export function databaseOptions(config: Config, logger: Logger): DatabaseOptions {
  return { databaseUrl: config.databaseUrl, migrationUrl: config.migrationDatabaseUrl, dataDir: config.dataDir, logger };
}

/** Applies pending migrations and closes (the `gatehouse migrate` command). */
export async function migrate(opts: DatabaseOptions): Promise<void> {
  const db = await openDatabase(opts);
  await db.close();
}
