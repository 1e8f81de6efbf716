import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../db/database.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { toPage, type Page } from '../http/pagination.ts';
import type { OAuthClient } from './oauth-client.entity.ts';
import { OAuthClientsRepository } from './oauth-clients.repository.ts';

// A redirect URI is matched exactly (no wildcards, no fragments), and must be https unless it
// points back at this machine (a developer's app on localhost).
const redirectUri = z.string().refine((value) => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.hash) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}, 'an absolute https URL without a fragment (http only for localhost)');

export const newPlatformClient = z.strictObject({
  name: z.string().trim().min(1).max(200),
  redirectUris: z.array(redirectUri).min(1).max(20),
  postLogoutRedirectUris: z.array(redirectUri).max(20).default([]),
  public: z.boolean().default(false),
  // OpenID Connect Back-Channel Logout 1.0: where the issuer posts a logout token when a session ends
  backchannelLogoutUri: redirectUri.optional(),
});
export type NewPlatformClient = z.input<typeof newPlatformClient>;

/**
 * Registers one of the product's apps with the issuer. A confidential client gets a secret,
 * shown once and stored sealed; a public client (SPA, native) gets none and must use PKCE.
 */
export async function createPlatformClient(db: Database, secrets: SecretBox, raw: NewPlatformClient): Promise<{ clientId: string; clientSecret: string | null }> {
  const parsed = newPlatformClient.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
  }
  const input = parsed.data;
  const clientId = `cl_${randomBytes(12).toString('hex')}`;
  const clientSecret = input.public ? null : randomBytes(32).toString('base64url');
  await db.withoutOrg((em) => new OAuthClientsRepository(em).create({
    clientId,
    name: input.name,
    public: input.public,
    redirectUris: input.redirectUris,
    postLogoutRedirectUris: input.postLogoutRedirectUris,
    backchannelLogoutUri: input.backchannelLogoutUri ?? null,
    secret: clientSecret ? secrets.seal(clientSecret, clientId) : null,
  }));
  return { clientId, clientSecret };
}

/** What the platform API shows of a client: never its secret, sealed or not. */
export function platformClientView(client: OAuthClient) {
  return {
    clientId: client.clientId,
    name: client.name,
    public: client.public,
    redirectUris: client.redirectUris,
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    backchannelLogoutUri: client.backchannelLogoutUri ?? null,
    createdAt: client.createdAt,
  };
}
export type PlatformClientView = ReturnType<typeof platformClientView>;

export const platformClientId = /^cl_[0-9a-f]{24}$/;

/** The active platform clients, a page at a time; deactivated ones are gone from the API. */
export function listPlatformClients(db: Database, query: { limit: number; cursor?: string }): Promise<Page<PlatformClientView>> {
  return db.withoutOrg(async (em) => {
    const rows = await new OAuthClientsRepository(em).listActivePage(query.limit, query.cursor);
    return toPage(rows, query.limit, (c) => c.clientId, platformClientView);
  });
}

/** One active platform client; 404 for an unknown, deactivated or malformed id alike. */
export function getPlatformClient(db: Database, clientId: string): Promise<PlatformClientView> {
  return db.withoutOrg(async (em) => platformClientView(await findActiveOr404(new OAuthClientsRepository(em), clientId)));
}

/**
 * Deactivates a platform client: the issuer looks clients up on every use (client-store.ts), so
 * it stops working at once, at every endpoint, on every node. The row stays, so its id is never
 * given to another app.
 */
export function deactivatePlatformClient(db: Database, clientId: string): Promise<void> {
  return db.withoutOrg(async (em) => {
    const repo = new OAuthClientsRepository(em);
    const client = await findActiveOr404(repo, clientId);
    client.revokedAt = new Date();
    await repo.save();
  });
}

async function findActiveOr404(repo: OAuthClientsRepository, clientId: string): Promise<OAuthClient> {
  // Only platform clients' ids: a service account's (sa_…) is not addressable here.
  const client = platformClientId.test(clientId) ? await repo.findActive(clientId) : null;
  if (!client) throw new NotFoundError('client.not_found', 'Client not found.');
  return client;
}
