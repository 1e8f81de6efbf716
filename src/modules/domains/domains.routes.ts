import type { ApiServices } from '../../http/api-services.ts';
import type { RouteSpec } from '../../http/route.ts';

export function domainRoutes(_services: ApiServices): RouteSpec[] {
  return [];
}
