// Token buckets for the gateway's rate limits (issue 6: per org and per API key). Each bucket
// holds up to one second's worth of requests (the burst) and refills continuously. Buckets live
// in one node's memory: with N nodes behind a balancer the whole fleet allows up to N times the
// rate, which is the usual trade for answering without a round trip.

interface Bucket {
  tokens: number;
  at: number;
}

export interface TokenBucketsOptions {
  now?: () => number;
  /** Buckets kept at most; the oldest goes first (a forgotten bucket starts full again). */
  maxEntries?: number;
}

export class TokenBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(ratePerSecond: number, opts: TokenBucketsOptions = {}) {
    if (!Number.isFinite(ratePerSecond) || ratePerSecond < 0) throw new RangeError(`rate must be 0 or more, not ${ratePerSecond}`);
    this.#rate = ratePerSecond;
    this.#burst = Math.max(1, ratePerSecond);
    this.#now = opts.now ?? Date.now;
    this.#maxEntries = opts.maxEntries ?? 100_000;
  }

  /** Takes one token for `key`: 0 when allowed, else the whole seconds until one is there (Retry-After). */
  take(key: string): number {
    if (this.#rate === 0) return 0;
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxEntries) this.#buckets.delete(this.#buckets.keys().next().value!);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) * this.#rate) / 1000);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }
}
