import type { ApiServices } from './api-services.ts';
import type { RouteSpec } from './route.ts';
import { apiKeyRoutes } from '../modules/api-keys/api-keys.routes.ts';
import { invitationRoutes } from '../modules/invitations/invitations.routes.ts';
import { auditRoutes } from '../modules/audit/audit.routes.ts';
import { memberRoutes } from '../modules/members/members.routes.ts';
import { mfaRoutes } from '../modules/users/mfa.routes.ts';
import { orgRoutes } from '../modules/orgs/orgs.routes.ts';
import { platformClientRoutes } from '../oidc/clients.routes.ts';
import { platformOrgRoutes } from '../modules/platform/platform-orgs.routes.ts';
import { roleRoutes } from '../modules/roles/roles.routes.ts';
import { serviceAccountRoutes } from '../modules/service-accounts/service-accounts.routes.ts';
import { teamRoutes } from '../modules/teams/teams.routes.ts';
import { connectionRoutes } from '../modules/connections/connections.routes.ts';
import { domainRoutes } from '../modules/domains/domains.routes.ts';
import { directoryRoutes } from '../modules/directories/directories.routes.ts';
import { workspaceRoutes } from '../modules/workspaces/workspaces.routes.ts';
import { authorizeRoutes } from '../modules/authorization/authorize.routes.ts';
import { billingRoutes } from '../modules/billing/billing.routes.ts';
import { setupLinkRoutes } from '../modules/setup-links/setup-links.routes.ts';
import { billingPlanRoutes } from '../modules/billing/billing-plans.routes.ts';

/** Every /api/v1 route, in the order the OpenAPI document lists them. */
export function apiRoutes(services: ApiServices): RouteSpec[] {
  return [
    ...orgRoutes(services),
    ...memberRoutes(services),
    ...apiKeyRoutes(services),
    ...invitationRoutes(services),
    ...auditRoutes(services),
    ...roleRoutes(services),
    ...teamRoutes(services),
    ...serviceAccountRoutes(services),
    ...mfaRoutes(services),
    ...domainRoutes(services),
    ...connectionRoutes(services),
    ...directoryRoutes(services),
    ...workspaceRoutes(services),
    ...authorizeRoutes(services),
    ...billingRoutes(services),
    ...setupLinkRoutes(services),
    ...billingPlanRoutes(services),
    ...platformClientRoutes(services),
    ...platformOrgRoutes(services),
  ];
}
