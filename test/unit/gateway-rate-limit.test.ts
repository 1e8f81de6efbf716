import { TokenBuckets } from '../../src/gateway/rate-limit.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

test('a bucket allows a burst of one second\'s worth, then answers the whole seconds until a token', () => {
  const c = clock();
  const buckets = new TokenBuckets(5, { now: c.now });
  for (let i = 0; i < 5; i++) expect(buckets.take('k')).toBe(0);
  expect(buckets.take('k')).toBe(1);
  expect(buckets.take('k')).toBe(1); // a refused request takes nothing
  c.advance(200); // one token back at 5/s
  expect(buckets.take('k')).toBe(0);
  expect(buckets.take('k')).toBe(1);
});

test('a slow rate answers a longer Retry-After, rounded up', () => {
  const c = clock();
  const buckets = new TokenBuckets(1, { now: c.now });
  expect(buckets.take('k')).toBe(0);
  expect(buckets.take('k')).toBe(1);
  c.advance(100);
  expect(buckets.take('k')).toBe(1); // 0.9 s to go: still a whole second
  c.advance(900);
  expect(buckets.take('k')).toBe(0);
});

test('refills never exceed the burst', () => {
  const c = clock();
  const buckets = new TokenBuckets(3, { now: c.now });
  expect(buckets.take('k')).toBe(0);
  c.advance(60_000);
  for (let i = 0; i < 3; i++) expect(buckets.take('k')).toBe(0);
  expect(buckets.take('k')).toBe(1);
});

test('keys have their own buckets', () => {
  const c = clock();
  const buckets = new TokenBuckets(1, { now: c.now });
  expect(buckets.take('a')).toBe(0);
  expect(buckets.take('a')).toBe(1);
  expect(buckets.take('b')).toBe(0);
});

test('rate 0 never limits', () => {
  const buckets = new TokenBuckets(0);
  for (let i = 0; i < 10_000; i++) expect(buckets.take('k')).toBe(0);
});

test('the map is bounded: the oldest bucket is forgotten (and starts full again)', () => {
  const c = clock();
  const buckets = new TokenBuckets(1, { now: c.now, maxEntries: 2 });
  expect(buckets.take('a')).toBe(0);
  expect(buckets.take('b')).toBe(0);
  expect(buckets.take('c')).toBe(0); // 'a' goes
  expect(buckets.take('c')).toBe(1);
  expect(buckets.take('a')).toBe(0);
});

test('a negative or non-finite rate is refused at start-up', () => {
  expect(() => new TokenBuckets(-1)).toThrow(RangeError);
  expect(() => new TokenBuckets(Number.NaN)).toThrow(RangeError);
});

test('the clock going backwards neither adds nor removes tokens', () => {
  const c = clock();
  const buckets = new TokenBuckets(1, { now: c.now });
  expect(buckets.take('k')).toBe(0);
  c.advance(-10_000);
  expect(buckets.take('k')).toBe(1);
});
