// Which audit retention is in force for an org (security review M3). Deleting history cannot be
// undone while a downgrade must never delete data (issue 7 item 4), so the rule is: the retention
// in force is the LONGEST of the retentions the org's plan has had within the last `delayDays`
// (GATEHOUSE_RETENTION_DOWNGRADE_DAYS). An upgrade counts at once; a shorter retention counts only
// once the org has been on shorter plans for the whole delay, whatever made it shorter (a
// subscription ended, a grace period ran out, a plan left the file, billing was turned on).
// An org seen for the first time is taken to have kept everything until now: we cannot know what
// it had, and waiting costs nothing but disk.

/** Retention (days, or "forever") → when it was last seen held, ISO 8601. */
export type Held = Record<string, string>;

const FOREVER = 'forever';
const dayMs = 24 * 3600 * 1000;
/** How stale a stamp may get before it is written again (the job runs hourly). */
const refreshMs = 3600 * 1000;

const keyOf = (days: number | null): string => (days === null ? FOREVER : String(days));
const daysOf = (key: string): number | null => (key === FOREVER ? null : Number(key));
const longer = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.max(a, b));

export interface RetentionInForce {
  /** Days to keep (null: keep everything). */
  days: number | null;
  /** The record to store, or null when the stored one is still good. */
  save: Held | null;
}

/** The retention in force now, given what the org held (null: never seen) and its plan's now. */
export function retentionInForce(stored: Held | null, current: number | null, now: Date, delayDays: number): RetentionInForce {
  const before: Held = stored ?? { [FOREVER]: now.toISOString() };
  const cutoff = now.getTime() - delayDays * dayMs;
  const held: Held = {};
  for (const [key, at] of Object.entries(before)) if (Date.parse(at) > cutoff) held[key] = at;
  const currentKey = keyOf(current);
  const fresh = held[currentKey] !== undefined && Date.parse(held[currentKey]) > now.getTime() - refreshMs;
  if (!fresh) held[currentKey] = now.toISOString();
  const days = Object.keys(held).map(daysOf).reduce(longer, current);
  const unchanged = stored !== null && fresh && Object.keys(held).length === Object.keys(stored).length;
  return { days, save: unchanged ? null : held };
}
