import type { DirectoryFilter, ListQuery } from '../src/modules/directory-sync/directory-records.ts';
import { translateFilter } from './scim-filter.ts';
import { LIST_RESPONSE, type SchemaDefinition } from './scim-schemas.ts';

// RFC 7644 §3.4.2 list queries: filter, 1-based startIndex, count, and the ListResponse.

export const MAX_RESULTS = 1000;

function integer(raw: unknown, fallback: number): number {
  const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  return Number.isSafeInteger(n) ? n : fallback;
}

/** RFC 7644 §3.4.2.4: startIndex < 1 is 1; count < 0 is 0; count is capped at maxResults. */
export function listQuery(def: SchemaDefinition, query: Record<string, unknown>): ListQuery {
  const filterText = typeof query.filter === 'string' && query.filter.trim() ? query.filter : null;
  const filter: DirectoryFilter | null = filterText ? translateFilter(def, filterText) : null;
  const startIndex = Math.max(1, integer(query.startIndex, 1));
  const count = Math.min(MAX_RESULTS, Math.max(0, integer(query.count, 100)));
  return { filter, startIndex, count };
}

export function listResponse(totalResults: number, startIndex: number, resources: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE], totalResults, itemsPerPage: resources.length, startIndex, Resources: resources };
}
