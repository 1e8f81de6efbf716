import { z } from 'zod';

// Cursor pagination for every list: `?limit=&cursor=` → `{ data, nextCursor }`. The cursor is
// opaque to clients (base64url of the last row's sort key).

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .max(200)
    .transform((value, ctx) => {
      const decoded = Buffer.from(value, 'base64url').toString('utf8');
      if (!/^[0-9a-zA-Z._:-]{1,100}$/.test(decoded)) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor this API issued' });
        return z.NEVER;
      }
      return decoded;
    })
    .optional(),
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
