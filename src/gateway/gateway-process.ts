import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.schema.ts';
import { SecretBox } from '../crypto/secret-box.ts';
import { Notifications } from '../db/notifications.ts';
import { databaseOptions, openDatabase } from '../db/orm.ts';
import { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import { PlatformRepository } from '../modules/platform/platform.repository.ts';
import { createGateway } from './gateway.ts';
import { RoutePolicyFile } from './route-policy-file.ts';

// The gateway as a process of its own (`gatehouse gateway`, and each GATEWAY_WORKERS worker):
// the database, its listening connection, the route policy and the gateway; no control plane.
// Workers are node:cluster workers sharing GATEWAY_PORT; the primary restarts one that dies.

/** Why the gateway cannot start with this config; undefined when it can. */
export function gatewayConfigProblem(config: Config): string | undefined {
  if (!config.upstreamUrl) return 'the gateway needs UPSTREAM_URL';
  if (!config.routesFile) return 'the gateway needs GATEHOUSE_ROUTES (the route policy)';
  if (config.gatewayWorkers > 1 && !config.databaseUrl) return 'GATEWAY_WORKERS above 1 needs DATABASE_URL (the embedded database has one user)';
  return undefined;
}

/** Runs the gateway listener in this process; resolves to its stop function. */
export async function runGateway(config: Config, logger: Logger): Promise<() => Promise<void>> {
  const db = await openDatabase(databaseOptions(config, logger));
  const notifications = new Notifications(db.listenTarget, logger);
  const routes = await RoutePolicyFile.open(config.routesFile!, logger);
  const gateway = await createGateway({
    config, logger, db, platform: new PlatformRepository(db), apiKeyTokens: new ApiKeyTokens(config.secretKey),
    secrets: new SecretBox(config.secretKey), notifications, routes,
  });
  await notifications.start();
  await gateway.listen(config.gatewayPort);
  logger.info({ port: config.gatewayPort, upstream: config.upstreamUrl, pid: process.pid }, 'Gatehouse gateway is serving');
  return async () => {
    await gateway.close();
    routes.close();
    await notifications.stop();
    await db.close();
  };
}

// A worker that dies is replaced, unless workers keep dying: more than this many exits within the
// window stops the restarts (a bad deployment should fail loudly, not spin).
const restartWindowMs = 60_000;
const maxRestartsInWindow = 10;

/** In the cluster primary: forks `count` gateway workers and keeps them running until stopped. */
export function superviseGatewayWorkers(count: number, logger: Logger): () => Promise<void> {
  let stopping = false;
  const exits: number[] = [];
  const fork = () => cluster.fork({ GATEHOUSE_GATEWAY_WORKER: '1' });
  cluster.on('exit', (worker: Worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    exits.push(now);
    while (exits.length > 0 && exits[0]! < now - restartWindowMs) exits.shift();
    if (exits.length > maxRestartsInWindow) {
      logger.error({ pid: worker.process.pid, code, signal }, 'gateway workers keep exiting; not restarting');
      return;
    }
    logger.warn({ pid: worker.process.pid, code, signal }, 'gateway worker exited; starting another');
    setTimeout(fork, Math.min(1000, 50 * exits.length));
  });
  for (let i = 0; i < count; i++) fork();
  return async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
    })));
  };
}

/** True in a process forked by superviseGatewayWorkers: it runs the gateway only. */
export function isGatewayWorker(): boolean {
  return cluster.isWorker && process.env.GATEHOUSE_GATEWAY_WORKER === '1';
}
