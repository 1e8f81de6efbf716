import pino from 'pino';
import { migrate } from '../src/db/orm.ts';
import { ensureTestLoginRole } from './helpers/login-role.ts';

// With TEST_DATABASE_URL the suite runs on real PostgreSQL: migrate it once here (as the owner)
// and make the login the app connects as. Without it, each test file gets its own in-memory
// embedded database, migrated when it opens.
export default async function globalSetup(): Promise<void> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) return;
  await migrate({ databaseUrl, dataDir: 'memory://', logger: pino({ level: 'silent' }) });
  await ensureTestLoginRole(databaseUrl);
}
