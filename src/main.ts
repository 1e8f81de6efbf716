import { parseArgs } from 'node:util';
import pino, { type Logger } from 'pino';
import { ConfigError, loadConfig } from '../config/config.loader.ts';
import type { Config } from '../config/config.schema.ts';
import { createApp } from './app.ts';
import { bootstrap } from './cli/bootstrap.ts';
import { verifyAuditCommand } from './cli/audit-verify.ts';
import { clientsCreate } from './cli/clients-create.ts';
import { domainsVerifyCommand } from './cli/domains.ts';
import { rotateKeysCommand } from './cli/keys-rotate.ts';
import { platformKeysCommand } from './cli/platform-keys.ts';
import { usersCommand } from './cli/users.ts';
import { databaseOptions, migrate } from './db/orm.ts';
import { gatewayConfigProblem, isGatewayWorker, runGateway, superviseGatewayWorkers } from './gateway/gateway-process.ts';

const usage = `usage: gatehouse <command>
  serve                      run the control plane (PORT); with UPSTREAM_URL and GATEHOUSE_ROUTES
                             also the gateway (GATEWAY_PORT)
  gateway                    run the gateway alone (GATEWAY_PORT): authenticate, authorize and
                             proxy to UPSTREAM_URL under the GATEHOUSE_ROUTES policy; no control
                             plane. GATEWAY_WORKERS=N (N > 1, needs DATABASE_URL) runs N worker
                             processes sharing the port, one per core; a worker that dies is
                             restarted. With serve, the workers run the gateway and the first
                             process keeps the control plane
  migrate                    apply database migrations
  bootstrap --org-name N --owner-email E --owner-password P [--json]
                             create the first org, its owner and an owner API key
  audit verify --org ORG_ID  check an org's audit hash chain
  keys rotate [--json]       new OIDC signing keys: published now, signing after
                             GATEHOUSE_KEY_PROPAGATION_SECONDS
  clients create --name N --redirect-uri U [--redirect-uri U …] [--post-logout-uri U]
                 [--backchannel-logout-uri U] [--public] [--json]
                             register an app with the OIDC issuer; prints the client id and secret
  users disable --email E    end a person's sessions, tokens and API keys in every org, and
                             refuse them until enabled again
  users enable --email E     let a disabled person sign in again
  platform-keys create --name N [--json]
                             a platform API key for the platform API (/api/v1/platform);
                             prints its id and the key, shown once
  platform-keys revoke --id ID
                             refuse a platform key from now on
  domains verify --org ORG_ID --domain D
                             mark an org's email domain verified by operator decision (audited)`;

async function serve(config: Config, logger: Logger): Promise<number> {
  const gatewayProblem = config.upstreamUrl ? gatewayConfigProblem(config) : undefined;
  if (gatewayProblem) {
    console.error(gatewayProblem);
    return 2;
  }
  const app = await createApp(config, logger);
  await app.listen();
  logger.info({ url: config.publicUrl, api: `${config.publicUrl}/api/v1`, health: `${config.publicUrl}/healthz` }, 'Gatehouse is serving');
  if (!config.databaseUrl) {
    logger.info(`embedded database in ${config.dataDir}; create the first org with: npx gatehouse bootstrap --org-name Acme --owner-email you@example.com --owner-password '<12+ chars>' --json`);
  }
  // The gateway listener: in this process, or in GATEWAY_WORKERS workers (this process keeps the
  // control plane).
  let stopWorkers: (() => Promise<void>) | undefined;
  if (app.gateway && config.gatewayWorkers > 1) stopWorkers = superviseGatewayWorkers(config.gatewayWorkers, logger);
  else if (app.gateway) {
    await app.gateway.listen(config.gatewayPort);
    logger.info({ port: config.gatewayPort, upstream: config.upstreamUrl }, 'Gatehouse gateway is serving');
  }
  stopOnSignals(logger, async () => {
    await stopWorkers?.();
    await app.close();
  });
  return -1;
}

/** `gatehouse gateway`: the gateway alone (one process, or a primary and GATEWAY_WORKERS workers). */
async function gateway(config: Config, logger: Logger): Promise<number> {
  const problem = gatewayConfigProblem(config);
  if (problem) {
    console.error(problem);
    return 2;
  }
  const stop = config.gatewayWorkers > 1 && !isGatewayWorker()
    ? superviseGatewayWorkers(config.gatewayWorkers, logger)
    : await runGateway(config, logger);
  stopOnSignals(logger, stop);
  return -1;
}

/** SIGTERM/SIGINT: stop cleanly (in-flight requests finish), or exit anyway after 10 s. */
function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    await stop();
    clearTimeout(force);
    process.exit(0);
  };
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
  process.on('SIGINT', () => void onSignal('SIGINT'));
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  // CLI commands print their result on stdout; logs go to stderr so --json stays parseable.
  const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.password', '*.secret', '*.token'] },
    pino.destination(command === 'serve' || command === 'gateway' ? 1 : 2));
  // A GATEWAY_WORKERS worker (forked by `serve` or `gateway`) runs the gateway only.
  if (isGatewayWorker()) return gateway(config, logger);
  switch (command) {
    case 'serve':
      return serve(config, logger);
    case 'gateway':
      return gateway(config, logger);
    case 'migrate':
      await migrate(databaseOptions(config, logger));
      logger.info('migrations applied');
      return 0;
    case 'bootstrap': {
      const { values } = parseArgs({ args: rest, options: { 'org-name': { type: 'string' }, 'owner-email': { type: 'string' }, 'owner-password': { type: 'string' }, json: { type: 'boolean' } } });
      return bootstrap(config, logger, { orgName: values['org-name'], ownerEmail: values['owner-email'], ownerPassword: values['owner-password'], json: values.json ?? false });
    }
    case 'audit': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { org: { type: 'string' }, json: { type: 'boolean' } } });
      if (positionals[0] !== 'verify' || !values.org) break;
      return verifyAuditCommand(config, logger, values.org, values.json ?? false);
    }
    case 'keys': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
      if (positionals.length !== 1 || positionals[0] !== 'rotate') break;
      return rotateKeysCommand(config, logger, values.json ?? false);
    }
    case 'clients': {
      if (rest[0] !== 'create') break;
      return clientsCreate(config, logger, rest.slice(1));
    }
    case 'users': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { email: { type: 'string' } } });
      const action = positionals[0];
      if (positionals.length !== 1 || (action !== 'disable' && action !== 'enable') || !values.email) break;
      return usersCommand(config, logger, action, values.email);
    }
    case 'domains': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { org: { type: 'string' }, domain: { type: 'string' } } });
      if (positionals.length !== 1 || positionals[0] !== 'verify' || !values.org || !values.domain) break;
      return domainsVerifyCommand(config, logger, values.org, values.domain);
    }
    case 'platform-keys': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { name: { type: 'string' }, id: { type: 'string' }, json: { type: 'boolean' } } });
      if (positionals.length !== 1) break;
      if (positionals[0] === 'create' && values.id === undefined) return platformKeysCommand(config, logger, { action: 'create', name: values.name, json: values.json ?? false });
      if (positionals[0] === 'revoke' && values.name === undefined && values.json === undefined) return platformKeysCommand(config, logger, { action: 'revoke', id: values.id });
      break;
    }
  }
  console.error(usage);
  return 2;
}
