import { z } from 'zod';

// Every key Gatehouse reads. The environment name is given per key; a YAML file named by
// GATEHOUSE_CONFIG may set the same keys by their camelCase name. The environment wins.
export const configSchema = z
  .object({
    env: z.enum(['development', 'production', 'test']).describe('NODE_ENV: production refuses dev defaults'),
    port: z.coerce.number().int().min(0).max(65535).describe('PORT: control plane listener'),
    gatewayPort: z.coerce.number().int().min(0).max(65535).describe('GATEWAY_PORT: gateway listener'),
    host: z.string().min(1).describe('HOST: address to listen on'),
    publicUrl: z.url({ protocol: /^https?$/ }).describe('PUBLIC_URL: the URL people and IdPs reach Gatehouse at'),
    databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional()
      .describe('DATABASE_URL: PostgreSQL; unset runs embedded PostgreSQL in dataDir'),
    migrationDatabaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional()
      .describe('DATABASE_MIGRATION_URL: the schema owner, for migrations; DATABASE_URL should then be a login that owns nothing'),
    dataDir: z.string().min(1).describe('GATEHOUSE_DATA_DIR: embedded database and dev key; "memory://" keeps nothing'),
    secretKey: z.string().regex(/^[A-Za-z0-9+/_-]{43,}={0,2}$/, 'must be at least 32 random bytes, base64')
      .optional().describe('GATEHOUSE_SECRET_KEY: encrypts and keys secrets at rest'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).describe('LOG_LEVEL'),
    bodyLimit: z.string().regex(/^\d+(b|kb|mb)$/).describe('GATEHOUSE_BODY_LIMIT: largest JSON body accepted'),
    smtpUrl: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional()
      .describe('SMTP_URL: outbound mail; unset logs mail instead'),
    mailFrom: z.string().min(3).describe('MAIL_FROM: sender of invitations and notices'),
    invitationTtlHours: z.coerce.number().int().min(1).max(24 * 90).describe('GATEHOUSE_INVITATION_TTL_HOURS'),
    personalOrgs: z.stringbool().or(z.boolean()).describe('GATEHOUSE_PERSONAL_ORGS: self sign-ups get a personal org'),
    signUp: z.stringbool().or(z.boolean()).describe('GATEHOUSE_SIGN_UP: the hosted sign-in offers "Create an account" (off: accounts come only from invitations, SSO, SCIM)'),
    trustProxy: z.stringbool().or(z.boolean()).describe('GATEHOUSE_TRUST_PROXY: take the client address from X-Forwarded-For (behind a load balancer)'),
    keyPropagationSeconds: z.coerce.number().int().min(0).max(7 * 24 * 3600)
      .describe('GATEHOUSE_KEY_PROPAGATION_SECONDS: how long `keys rotate` publishes new signing keys before they sign, so relying parties refresh their JWKS caches first'),
    dnsServers: z.string().regex(/^[0-9a-fA-F.:\[\],]+$/, 'comma-separated IP[:port] list').optional()
      .describe('GATEHOUSE_DNS_SERVERS: resolvers for domain verification (comma-separated IP[:port]); unset uses the system\'s'),
    samlClockSkewSeconds: z.coerce.number().int().min(0).max(600)
      .describe('GATEHOUSE_SAML_CLOCK_SKEW_SECONDS: tolerance for SAML NotBefore / NotOnOrAfter times'),
    metadataRefreshMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60)
      .describe('GATEHOUSE_METADATA_REFRESH_MINUTES: how often SAML connections with an idpMetadataUrl re-fetch it'),
    googleClientId: z.string().min(1).optional().describe('GOOGLE_CLIENT_ID: platform-wide "Sign in with Google" (off when unset)'),
    googleClientSecret: z.string().min(1).optional().describe('GOOGLE_CLIENT_SECRET'),
    googleIssuer: z.url({ protocol: /^https?$/ }).describe('GOOGLE_ISSUER: Google\'s OIDC issuer (tests point it at a local IdP)'),
    githubClientId: z.string().min(1).optional().describe('GITHUB_CLIENT_ID: platform-wide "Sign in with GitHub" (off when unset)'),
    githubClientSecret: z.string().min(1).optional().describe('GITHUB_CLIENT_SECRET'),
    githubUrl: z.url({ protocol: /^https?$/ }).describe('GITHUB_URL: GitHub\'s OAuth endpoints base (GitHub Enterprise, or a local stand-in in tests)'),
    githubApiUrl: z.url({ protocol: /^https?$/ }).describe('GITHUB_API_URL: GitHub\'s REST API base'),
    upstreamUrl: z.url({ protocol: /^https?$/ }).optional()
      .describe('UPSTREAM_URL: the product API the gateway guards (the gateway listener is off when unset)'),
    routesFile: z.string().min(1).optional()
      .describe('GATEHOUSE_ROUTES: the route policy (YAML) the gateway enforces; reloaded on change'),
    gatewayWorkers: z.coerce.number().int().min(1).max(64)
      .describe('GATEWAY_WORKERS: gateway processes (one per core scales it; more than 1 needs DATABASE_URL)'),
    gatewayResource: z.url({ protocol: /^https?$/ }).optional()
      .describe('GATEWAY_RESOURCE: the audience of access tokens for the gateway (RFC 8707 resource); default PUBLIC_URL/gateway'),
    gatewayForwardAuthorization: z.stringbool().or(z.boolean())
      .describe('GATEWAY_FORWARD_AUTHORIZATION: pass the caller\'s Authorization header to the upstream (off: it is removed)'),
    gatewayUpstreamTimeoutMs: z.coerce.number().int().min(100).max(600_000)
      .describe('GATEWAY_UPSTREAM_TIMEOUT_MS: how long the upstream may take to connect and to start answering before a 504'),
    gatewayOrgRateLimit: z.coerce.number().int().min(0)
      .describe('GATEWAY_ORG_RATE_LIMIT: requests per second per org through the gateway, bursts up to one second\'s worth (0: none)'),
    stripeSecretKey: z.string().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/, 'must be a Stripe secret key (sk_test_..., sk_live_...)').optional()
      .describe('STRIPE_SECRET_KEY: billing through Stripe; unset, billing is off and every org has GATEHOUSE_DEFAULT_PLAN'),
    stripeWebhookSecret: z.string().regex(/^whsec_[A-Za-z0-9]+$/, 'must be a Stripe webhook signing secret (whsec_...)').optional()
      .describe('STRIPE_WEBHOOK_SECRET: verifies the signature of /webhooks/stripe'),
    stripeApiBase: z.url({ protocol: /^https?$/ }).optional()
      .describe('STRIPE_API_BASE: where the Stripe SDK sends its requests (tests point it at a local stand-in)'),
    plansFile: z.string().min(1).optional()
      .describe('GATEHOUSE_PLANS: the plans (YAML, see config/plans.example.yaml); unset uses the shipped example'),
    defaultPlan: z.string().min(1)
      .describe('GATEHOUSE_DEFAULT_PLAN: the plan every org has while billing is off (self-hosted); with billing on, an org without a subscription is on "free"'),
    billingGraceDays: z.coerce.number().int().min(0).max(60)
      .describe('GATEHOUSE_BILLING_GRACE_DAYS: after a failed payment, days the plan stays before the org falls back to free'),
    retentionDowngradeDays: z.coerce.number().int().min(0).max(365)
      .describe('GATEHOUSE_RETENTION_DOWNGRADE_DAYS: days a shorter audit retention (a downgrade, a fallback to free) waits before it deletes anything'),
    gatewayKeyRateLimit: z.coerce.number().int().min(0)
      .describe('GATEWAY_KEY_RATE_LIMIT: requests per second per API key or service account (0: none)'),
    gatewayFailedAuthRateLimit: z.coerce.number().int().min(0)
      .describe('GATEWAY_FAILED_AUTH_RATE_LIMIT: failed authentications (401s) per second per client address; past it, 429 before any credential is looked up (0: none)'),
  })
  .strict();

export type Config = Readonly<z.infer<typeof configSchema> & { secretKey: string }>;

/** Environment variable → config key. */
export const envNames: Record<string, keyof z.infer<typeof configSchema>> = {
  NODE_ENV: 'env',
  PORT: 'port',
  GATEWAY_PORT: 'gatewayPort',
  HOST: 'host',
  PUBLIC_URL: 'publicUrl',
  DATABASE_URL: 'databaseUrl',
  DATABASE_MIGRATION_URL: 'migrationDatabaseUrl',
  GATEHOUSE_DATA_DIR: 'dataDir',
  GATEHOUSE_SECRET_KEY: 'secretKey',
  LOG_LEVEL: 'logLevel',
  GATEHOUSE_BODY_LIMIT: 'bodyLimit',
  SMTP_URL: 'smtpUrl',
  MAIL_FROM: 'mailFrom',
  GATEHOUSE_INVITATION_TTL_HOURS: 'invitationTtlHours',
  GATEHOUSE_PERSONAL_ORGS: 'personalOrgs',
  GATEHOUSE_SIGN_UP: 'signUp',
  GATEHOUSE_TRUST_PROXY: 'trustProxy',
  GATEHOUSE_KEY_PROPAGATION_SECONDS: 'keyPropagationSeconds',
  GATEHOUSE_DNS_SERVERS: 'dnsServers',
  GATEHOUSE_SAML_CLOCK_SKEW_SECONDS: 'samlClockSkewSeconds',
  GATEHOUSE_METADATA_REFRESH_MINUTES: 'metadataRefreshMinutes',
  GOOGLE_CLIENT_ID: 'googleClientId',
  GOOGLE_CLIENT_SECRET: 'googleClientSecret',
  GOOGLE_ISSUER: 'googleIssuer',
  GITHUB_CLIENT_ID: 'githubClientId',
  GITHUB_CLIENT_SECRET: 'githubClientSecret',
  GITHUB_URL: 'githubUrl',
  GITHUB_API_URL: 'githubApiUrl',
  UPSTREAM_URL: 'upstreamUrl',
  GATEHOUSE_ROUTES: 'routesFile',
  GATEWAY_WORKERS: 'gatewayWorkers',
  GATEWAY_RESOURCE: 'gatewayResource',
  GATEWAY_FORWARD_AUTHORIZATION: 'gatewayForwardAuthorization',
  GATEWAY_UPSTREAM_TIMEOUT_MS: 'gatewayUpstreamTimeoutMs',
  GATEWAY_ORG_RATE_LIMIT: 'gatewayOrgRateLimit',
  GATEWAY_KEY_RATE_LIMIT: 'gatewayKeyRateLimit',
  STRIPE_SECRET_KEY: 'stripeSecretKey',
  STRIPE_WEBHOOK_SECRET: 'stripeWebhookSecret',
  STRIPE_API_BASE: 'stripeApiBase',
  GATEHOUSE_PLANS: 'plansFile',
  GATEHOUSE_DEFAULT_PLAN: 'defaultPlan',
  GATEHOUSE_BILLING_GRACE_DAYS: 'billingGraceDays',
  GATEHOUSE_RETENTION_DOWNGRADE_DAYS: 'retentionDowngradeDays',
  GATEWAY_FAILED_AUTH_RATE_LIMIT: 'gatewayFailedAuthRateLimit',
};

export const defaults = {
  env: 'development',
  port: 8080,
  gatewayPort: 8081,
  host: '127.0.0.1',
  dataDir: './.gatehouse',
  logLevel: 'info',
  bodyLimit: '100kb',
  mailFrom: 'Gatehouse <no-reply@localhost>',
  invitationTtlHours: 24 * 7,
  personalOrgs: false,
  signUp: false,
  trustProxy: false,
  keyPropagationSeconds: 600,
  samlClockSkewSeconds: 180,
  metadataRefreshMinutes: 60,
  googleIssuer: 'https://accounts.google.com',
  githubUrl: 'https://github.com',
  githubApiUrl: 'https://api.github.com',
  gatewayWorkers: 1,
  gatewayForwardAuthorization: false,
  gatewayUpstreamTimeoutMs: 30_000,
  gatewayOrgRateLimit: 1000,
  gatewayKeyRateLimit: 200,
  gatewayFailedAuthRateLimit: 20,
  // Self-hosted (billing off): every org keeps every feature, as before billing existed.
  defaultPlan: 'enterprise',
  billingGraceDays: 7,
  retentionDowngradeDays: 30,
} as const;
