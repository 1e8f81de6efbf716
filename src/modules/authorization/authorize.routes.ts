import type { ApiServices } from '../../http/api-services.ts';
import type { RouteSpec } from '../../http/route.ts';

// STUB (helper "policy" replaces this file): POST /api/v1/authorize, decisions for fine-grained checks.
export function authorizeRoutes(_services: ApiServices): RouteSpec[] {
  return [];
}
