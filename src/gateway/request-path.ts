// The gateway matches routes on the raw path and forwards exactly that path: no decoding, no
// normalization. So every path whose meaning an upstream might read differently from the route
// policy is refused before matching (OWASP path traversal; RFC 3986 §5.2.4 dot segments): dot
// segments, percent-encoded dots, slashes and backslashes (an upstream that decodes them would
// see another path), `%25` (double encoding), raw backslashes (some stacks treat them as `/`),
// empty segments, control characters and non-ASCII bytes; and `;` (and its escape), which Java
// servlet containers read as path parameters, so `/orgs/A/x/..;/..;/B` would be B's path there.

/** Longest path (without the query) the gateway accepts. */
export const maxPathLength = 2048;
/** Longest request target (path and query). */
export const maxTargetLength = 8192;

const slash = 0x2f;
const dot = 0x2e;
const percent = 0x25;
const backslash = 0x5c;
const question = 0x3f;
const hash = 0x23;
const semicolon = 0x3b;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * A percent escape at `i` (the `%`) that must not appear in a path: `.`, `/`, `\`, `%`
 * (double encoding), control characters; or a `%` that does not start a valid escape.
 */
function refusedEscape(target: string, i: number): boolean {
  const high = hexValue(target.charCodeAt(i + 1));
  const low = hexValue(target.charCodeAt(i + 2));
  if (high < 0 || low < 0) return true;
  const byte = high * 16 + low;
  return byte === dot || byte === slash || byte === backslash || byte === percent || byte === semicolon || byte < 0x20 || byte === 0x7f;
}

/** A segment from `start` to `end` (exclusive) that is empty, `.` or `..`. */
function refusedSegment(target: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0) return true;
  if (length === 1) return target.charCodeAt(start) === dot;
  return length === 2 && target.charCodeAt(start) === dot && target.charCodeAt(start + 1) === dot;
}

/**
 * The path of an origin-form request target (RFC 9112 §3.2.1) when it is safe to match and
 * forward as is; null when it must be refused with a 400. The query is not part of the path and
 * is only checked for control characters and non-ASCII bytes.
 */
export function safeRequestPath(target: string | undefined): string | null {
  if (target === undefined || target.length === 0 || target.length > maxTargetLength) return null;
  if (target.charCodeAt(0) !== slash) return null;
  let segmentStart = 1;
  let end = target.length;
  for (let i = 1; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code === question) {
      end = i;
      break;
    }
    if (code <= 0x20 || code >= 0x7f || code === backslash || code === hash || code === semicolon) return null;
    if (code === percent && refusedEscape(target, i)) return null;
    if (code === slash) {
      if (refusedSegment(target, segmentStart, i)) return null;
      segmentStart = i + 1;
    }
  }
  // The last segment may be empty (a trailing slash, or the root), never `.` or `..`.
  if (end > segmentStart && refusedSegment(target, segmentStart, end)) return null;
  if (end > maxPathLength) return null;
  for (let i = end + 1; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || code === hash) return null;
  }
  return end === target.length ? target : target.slice(0, end);
}
