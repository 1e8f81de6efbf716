import { createHmac } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { Config } from '../../config/config.schema.ts';

/**
 * The web console is a client of Gatehouse's own issuer (DESIGN.md: /admin signs in through
 * /oidc). It is built in, so it is no row in oauth_clients: its metadata follows from the config,
 * and its secret is derived from GATEHOUSE_SECRET_KEY, which every node shares and nobody types.
 */
export const consoleClientId = 'gatehouse-console';

export function consoleClientSecret(config: Config): string {
  return createHmac('sha256', config.secretKey).update('gatehouse console client secret').digest('base64url');
}

export function consoleRedirectUri(config: Config): string {
  return `${config.publicUrl}/admin/callback`;
}

export function consoleClientMetadata(config: Config): ClientMetadata {
  return {
    client_id: consoleClientId,
    client_name: 'Gatehouse console',
    client_secret: consoleClientSecret(config),
    redirect_uris: [consoleRedirectUri(config)],
    post_logout_redirect_uris: [`${config.publicUrl}/admin/signed-out`],
    // refresh_token with `organization` is the org switcher (src/oidc/org-switch.ts)
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}
