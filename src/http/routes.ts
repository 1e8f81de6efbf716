import type { ApiServices } from './api-services.ts';
import type { RouteSpec } from './route.ts';
import { apiKeyRoutes } from '../modules/api-keys/api-keys.routes.ts';
import { memberRoutes } from '../modules/members/members.routes.ts';
import { orgRoutes } from '../modules/orgs/orgs.routes.ts';

/** Every /api/v1 route, in the order the OpenAPI document lists them. */
export function apiRoutes(services: ApiServices): RouteSpec[] {
  return [
    ...orgRoutes(services),
    ...memberRoutes(services),
    ...apiKeyRoutes(services),
  ];
}
