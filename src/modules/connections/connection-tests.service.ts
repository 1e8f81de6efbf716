import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import type { OrgScope } from '../scope.ts';
import { ConnectionTestsRepository, type ConnectionTestRow } from './connection-tests.repository.ts';
import { spEndpoints } from './connection-view.ts';
import { ConnectionsRepository } from './connections.repository.ts';

/** How long a test may take from its start at the API to the IdP's answer. */
const testTtlSeconds = 15 * 60;

// A console path (the org console's or the setup portal's): no query, no host, no dot segments.
const consolePath = /^\/admin(\/[A-Za-z0-9_~-][A-Za-z0-9_.~-]*)+$/;

/**
 * Where the browser goes when the test ends: a path of this deployment's console only, given
 * as a path or as an absolute URL on PUBLIC_URL's origin; anything else would make Gatehouse
 * an open redirector.
 */
export function consoleReturnPath(value: string, publicUrl: string): string {
  let path = value;
  if (!value.startsWith('/')) {
    const url = URL.parse(value);
    path = url && url.origin === new URL(publicUrl).origin && !url.search && !url.hash ? url.pathname : '';
  }
  if (!consolePath.test(path) || path.split('/').some((s) => s === '..' || s === '.')) {
    throw new ValidationError([{ field: 'body.returnTo', message: 'must be a path of this Gatehouse\'s console (/admin/...)' }]);
  }
  return path;
}

export function testView(row: ConnectionTestRow, now = new Date()) {
  const status = row.result ? (row.result.ok ? 'passed' : 'failed') : row.expires_at <= now ? 'expired' : row.started_at ? 'started' : 'pending';
  return {
    id: row.id, connectionId: row.connection_id, status, result: row.result,
    createdAt: row.created_at, startedAt: row.started_at, finishedAt: row.finished_at, expiresAt: row.expires_at,
  };
}

/** Test sign-ins through a connection (sso:manage): started here, answered at the SSO edges. */
export class ConnectionTestsService {
  readonly #scope: OrgScope;
  readonly #plans: PlanDeps;
  readonly #publicUrl: string;

  constructor(scope: OrgScope, deps: { plans: PlanDeps; publicUrl: string }) {
    this.#scope = scope;
    this.#plans = deps.plans;
    this.#publicUrl = deps.publicUrl.replace(/\/+$/, '');
  }

  async start(connectionId: string, returnTo: string) {
    this.#scope.authorize('sso:manage');
    const path = consoleReturnPath(returnTo, this.#publicUrl);
    const connection = await new ConnectionsRepository(this.#scope.em).find(connectionId);
    if (!connection) throw new NotFoundError('connection.not_found', 'No such connection.');
    await new PlanGate(this.#scope, this.#plans).requireFeature('sso');
    // An inactive connection can be tested: a test signs nobody in, and it is how an admin checks
    // a connection (one a setup link made is off) before turning it on.
    const row = await new ConnectionTestsRepository(this.#scope.em).create({
      id: randomUUID(), orgId: this.#scope.orgId, connectionId, returnTo: path, ttlSeconds: testTtlSeconds,
    });
    await recordAudit(this.#scope, { type: 'connection.test_started', target: { type: 'connection', id: connectionId }, after: { testId: row.id } });
    // The link works once and only until the test expires; it starts the request at the IdP.
    return { ...testView(row), startUrl: `${this.#publicUrl}/sso/test/${connectionId}/${row.id}` };
  }

  /** What the IdP is given for connection `id`, existing or about to be made with that id (deterministic URLs, nothing secret). */
  endpoints(id: string) {
    this.#scope.authorize('sso:manage');
    return spEndpoints(this.#publicUrl, id);
  }

  async get(connectionId: string, testId: string) {
    this.#scope.authorize('sso:manage');
    const row = await new ConnectionTestsRepository(this.#scope.em).find(testId, connectionId);
    if (!row) throw new NotFoundError('connection_test.not_found', 'No such test sign-in.');
    return testView(row);
  }
}
