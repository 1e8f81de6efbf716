import type { ApiServices } from '../../http/api-services.ts';
import type { RouteSpec } from '../../http/route.ts';

// STUB (issue 5 wiring): the directories management API.
export function directoryRoutes(_services: ApiServices): RouteSpec[] {
  return [];
}
