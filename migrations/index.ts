import { Foundation } from './0001-foundation.ts';
import { OidcModels } from './0002-oidc-models.ts';
import { SigningKeys } from './0003-signing-keys.ts';
import { Clients } from './0004-clients.ts';
import { GrantOrgs } from './0005-grant-orgs.ts';
import { SignInAttempts } from './0006-sign-in-attempts.ts';
import { UserDisabled } from './0007-user-disabled.ts';
import { PasswordResets } from './0008-password-resets.ts';
import { Mfa } from './0009-mfa.ts';
import { PlatformKeys } from './0010-platform-keys.ts';
import { EnterpriseSso } from './0011-enterprise-sso.ts';
import { DirectorySync } from './0012-directory-sync.ts';
import { Gateway } from './0013-gateway.ts';
import { Billing } from './0014-billing.ts';
import { StripeEvents } from './0015-stripe-events.ts';
import { Retention } from './0016-retention.ts';
import { AppliedPlan } from './0017-applied-plan.ts';
import { AuditCheckpointGuard } from './0018-audit-checkpoint-guard.ts';
import { RetentionHolds } from './0019-retention-holds.ts';
import { SetupLinks } from './0020-setup-links.ts';
import { PlatformOverview } from './0021-platform-overview.ts';
import { SsoTests } from './0022-sso-tests.ts';

// Listed explicitly (no file discovery): the order here is the order applied.
export const migrationsList = [
  { name: '0001-foundation', class: Foundation },
  { name: '0002-oidc-models', class: OidcModels },
  { name: '0003-signing-keys', class: SigningKeys },
  { name: '0004-clients', class: Clients },
  { name: '0005-grant-orgs', class: GrantOrgs },
  { name: '0006-sign-in-attempts', class: SignInAttempts },
  { name: '0007-user-disabled', class: UserDisabled },
  { name: '0008-password-resets', class: PasswordResets },
  { name: '0009-mfa', class: Mfa },
  { name: '0010-platform-keys', class: PlatformKeys },
  { name: '0011-enterprise-sso', class: EnterpriseSso },
  { name: '0012-directory-sync', class: DirectorySync },
  { name: '0013-gateway', class: Gateway },
  { name: '0014-billing', class: Billing },
  { name: '0015-stripe-events', class: StripeEvents },
  { name: '0016-retention', class: Retention },
  { name: '0017-applied-plan', class: AppliedPlan },
  { name: '0018-audit-checkpoint-guard', class: AuditCheckpointGuard },
  { name: '0019-retention-holds', class: RetentionHolds },
  { name: '0020-setup-links', class: SetupLinks },
  { name: '0021-platform-overview', class: PlatformOverview },
  { name: '0022-sso-tests', class: SsoTests },
];
