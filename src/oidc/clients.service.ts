import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../db/database.ts';
import { ValidationError } from '../errors.ts';
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
