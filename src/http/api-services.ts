import type { Config } from '../../config/config.schema.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import type { Database } from '../db/database.ts';
import type { ApiKeyTokens } from '../modules/api-keys/api-key-token.ts';
import type { PlanCatalog } from '../modules/billing/plans.ts';
import type { StripeClient } from '../modules/billing/stripe-client.ts';
import type { TxtResolver } from '../modules/domains/dns-txt.ts';
import type { Mailer } from '../modules/mail/mailer.ts';
import type { PlatformRepository } from '../modules/platform/platform.repository.ts';
import type { ProductPermissions } from '../modules/roles/product-permissions.ts';

/** What route modules are given; built once in app.ts. */
export interface ApiServices {
  config: Config;
  db: Database;
  apiKeyTokens: ApiKeyTokens;
  platform: PlatformRepository;
  mailer: Mailer;
  secrets: SecretBox;
  /** TXT look-ups for domain verification (GATEHOUSE_DNS_SERVERS or the system's resolver). */
  dns: TxtResolver;
  /** The product's permissions from the route policy (GATEHOUSE_ROUTES); none when unset. */
  productPermissions: ProductPermissions;
  /** The plans (GATEHOUSE_PLANS or the shipped example), loaded and validated once at start-up. */
  plans: PlanCatalog;
  /** Whether Stripe billing is on (STRIPE_SECRET_KEY set); off, every org has plans.selfHosted. */
  billing: boolean;
  /** The one Stripe SDK client (STRIPE_API_BASE honoured); undefined while billing is off. */
  stripe: StripeClient | undefined;
}
