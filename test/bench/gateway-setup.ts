import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayResource } from '../../src/oidc/provider.ts';
import { startAppAtPublicUrl, type TestApp } from '../helpers/app.ts';
import { createOrg } from '../helpers/factories.ts';

// What the gateway bench needs from a control plane (in this process, idle while the load runs):
// a route policy, an org, an org API key, a service account and its client_credentials access
// tokens for the gateway's resource, and the environment a `gatehouse gateway` process shares
// with it (database, issuer URL, secret key).

export const policyYaml = `permissions:
  agents:read:  [owner, admin, member, viewer]
  agents:write: [owner, admin, member]
routes:
  - match: GET /orgs/:orgId/agents
    permission: agents:read
  - match: POST /orgs/:orgId/agents
    permission: agents:write
`;

export interface GatewayFixture {
  orgId: string;
  /** An org API key (gh_...) of the org's owner. */
  apiKey: string;
  /** A fresh access token for the gateway's resource (service account, role member). */
  accessToken(): Promise<string>;
  /** Environment of a `gatehouse gateway` process in front of `upstreamUrl`. */
  gatewayEnv(upstreamUrl: string, port: number, workers: number): Record<string, string>;
  close(): Promise<void>;
}

async function serviceAccountToken(t: TestApp, clientId: string, clientSecret: string): Promise<string> {
  const res = await fetch(`${t.url}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: gatewayResource(t.config) }).toString(),
  });
  const json = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !json.access_token) throw new Error(`gateway token: ${res.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

export async function gatewayFixture(databaseUrl: string, workDir: string): Promise<GatewayFixture> {
  const routesFile = join(workDir, 'routes.yaml');
  writeFileSync(routesFile, policyYaml);
  const t = await startAppAtPublicUrl({ DATABASE_URL: databaseUrl, GATEHOUSE_ROUTES: routesFile });
  try {
    const org = await createOrg(t);
    const sa = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/service-accounts`, { name: 'gateway bench', role: 'member' });
    if (sa.status !== 201) throw new Error(`service account: ${sa.status} ${sa.text}`);
    // The key acts with the same role as the service account, so both send the upstream the same
    // identity (the owner's permission list and assertion are twice as long).
    const key = await org.owner.api('POST', `/api/v1/orgs/${org.orgId}/api-keys`, { name: 'gateway bench', role: 'member' });
    if (key.status !== 201) throw new Error(`API key: ${key.status} ${key.text}`);
    return {
      orgId: org.orgId,
      apiKey: key.body.key,
      accessToken: () => serviceAccountToken(t, sa.body.clientId, sa.body.clientSecret),
      gatewayEnv: (upstreamUrl, port, workers) => ({
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: databaseUrl,
        PUBLIC_URL: t.config.publicUrl,
        GATEHOUSE_SECRET_KEY: t.config.secretKey,
        UPSTREAM_URL: upstreamUrl,
        GATEHOUSE_ROUTES: routesFile,
        GATEWAY_PORT: String(port),
        GATEWAY_WORKERS: String(workers),
        // Measured: the cost of authenticating and authorizing, not of being throttled.
        GATEWAY_ORG_RATE_LIMIT: '0',
        GATEWAY_KEY_RATE_LIMIT: '0',
      }),
      close: () => t.close(),
    };
  } catch (err) {
    await t.close();
    throw err;
  }
}
