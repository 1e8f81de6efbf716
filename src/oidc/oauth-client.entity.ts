import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// A platform client of the issuer: one of the product's web apps or SPAs. Global, not org-owned.
export const OAuthClient = defineEntity({
  name: 'OAuthClient',
  tableName: 'oauth_clients',
  properties: {
    clientId: p.text().primary(),
    name: p.text(),
    public: p.boolean(),
    redirectUris: p.array(),
    postLogoutRedirectUris: p.array(),
    backchannelLogoutUri: p.text().nullable(),
    // sealed with the secret box; null for public clients (PKCE instead of a secret).
    secret: p.text().nullable().hidden(),
    createdAt: p.datetime().onCreate(() => new Date()),
    revokedAt: p.datetime().nullable(),
  },
});
export type OAuthClient = InferEntity<typeof OAuthClient>;
