import type { ApiServices } from '../../http/api-services.ts';
import type { RouteSpec } from '../../http/route.ts';

// STUB (helper "management" replaces this file): workspaces and member limits.
export function workspaceRoutes(_services: ApiServices): RouteSpec[] {
  return [];
}
