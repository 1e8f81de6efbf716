import { z } from 'zod';

// Cursor pagination for every list: `?limit=&cursor=` → `{ data, nextCursor }`. The cursor is
// opaque to clients (base64url of the last row's sort key).

/** A cursor: base64url of the last row's key, which must match `key` (else 400, never a query). */
export function cursorOf(key: RegExp, what: string) {
  return z
    .string()
    .max(200)
    .transform((value, ctx) => {
      const decoded = Buffer.from(value, 'base64url').toString('utf8');
      if (!key.test(decoded)) {
        ctx.addIssue({ code: 'custom', message: `not a cursor this API issued (${what})` });
        return z.NEVER;
      }
      return decoded;
    });
}

const uuidKey = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `?limit=&cursor=` for lists ordered by a uuid id (most of them). */
export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursorOf(uuidKey, 'an id').optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}

/** Rows fetched with limit + 1: the extra row only says whether another page exists. */
export function toPage<R, T>(rows: R[], limit: number, keyOf: (row: R) => string, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items.at(-1);
  return {
    data: items.map(map),
    nextCursor: more && last ? Buffer.from(keyOf(last)).toString('base64url') : null,
  };
}
