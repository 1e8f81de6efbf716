import { chainHash, GENESIS_HASH, redact, type ChainedContent } from '../../src/modules/audit/audit-chain.ts';

function event(overrides: Partial<ChainedContent> = {}): ChainedContent {
  return {
    id: '01900000-0000-7000-8000-000000000001',
    orgId: '01900000-0000-7000-8000-0000000000aa',
    seq: 1,
    type: 'org.updated',
    actorType: 'api_key',
    actorId: '0123456789abcdef',
    targetType: 'org',
    targetId: '01900000-0000-7000-8000-0000000000aa',
    ip: '127.0.0.1',
    userAgent: 'jest',
    requestId: 'req-1',
    before: { name: 'Old', settings: { a: 1, b: [1, 2] } },
    after: { name: 'New', settings: { a: 1, b: [1, 2] } },
    occurredAt: new Date('2025-01-02T03:04:05.678Z'),
    ...overrides,
  };
}

describe('chainHash', () => {
  test('is deterministic: the same event after the same hash gives the same 64-hex digest', () => {
    const a = chainHash(GENESIS_HASH, event());
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash(GENESIS_HASH, event())).toBe(a);
  });

  test('does not depend on the key order of the event or of its nested snapshots', () => {
    const reordered: ChainedContent = {
      occurredAt: new Date('2025-01-02T03:04:05.678Z'),
      after: { settings: { b: [1, 2], a: 1 }, name: 'New' },
      before: { settings: { b: [1, 2], a: 1 }, name: 'Old' },
      requestId: 'req-1', userAgent: 'jest', ip: '127.0.0.1',
      targetId: '01900000-0000-7000-8000-0000000000aa', targetType: 'org',
      actorId: '0123456789abcdef', actorType: 'api_key', type: 'org.updated', seq: 1,
      orgId: '01900000-0000-7000-8000-0000000000aa', id: '01900000-0000-7000-8000-000000000001',
    };
    expect(chainHash(GENESIS_HASH, reordered)).toBe(chainHash(GENESIS_HASH, event()));
  });

  test('an absent optional field hashes like null', () => {
    const withNulls = event({ actorId: null, targetType: null, targetId: null, ip: null, userAgent: null, requestId: null, before: null, after: null });
    const { actorId, targetType, targetId, ip, userAgent, requestId, before, after, ...required } = event();
    expect(chainHash(GENESIS_HASH, required)).toBe(chainHash(GENESIS_HASH, withNulls));
  });

  test('covers the previous hash: the same event after another hash differs', () => {
    expect(chainHash('f'.repeat(64), event())).not.toBe(chainHash(GENESIS_HASH, event()));
  });

  test.each<[string, Partial<ChainedContent>]>([
    ['id', { id: '01900000-0000-7000-8000-000000000002' }],
    ['orgId', { orgId: '01900000-0000-7000-8000-0000000000bb' }],
    ['seq', { seq: 2 }],
    ['type', { type: 'org.deleted' }],
    ['actorType', { actorType: 'system' }],
    ['actorId', { actorId: 'fedcba9876543210' }],
    ['targetId', { targetId: 'someone-else' }],
    ['ip', { ip: '10.0.0.1' }],
    ['userAgent', { userAgent: 'curl' }],
    ['requestId', { requestId: 'req-2' }],
    ['a nested value of after', { after: { name: 'New', settings: { a: 2, b: [1, 2] } } }],
    ['an array element of before', { before: { name: 'Old', settings: { a: 1, b: [2, 1] } } }],
    ['occurredAt (by one millisecond)', { occurredAt: new Date('2025-01-02T03:04:05.679Z') }],
  ])('changes when %s changes', (_field, change) => {
    expect(chainHash(GENESIS_HASH, event(change))).not.toBe(chainHash(GENESIS_HASH, event()));
  });

  test('a chain of events links each hash into the next', () => {
    const first = chainHash(GENESIS_HASH, event());
    const second = chainHash(first, event({ seq: 2, id: '01900000-0000-7000-8000-000000000002' }));
    const forged = chainHash(chainHash(GENESIS_HASH, event({ after: { name: 'Evil' } })), event({ seq: 2, id: '01900000-0000-7000-8000-000000000002' }));
    expect(forged).not.toBe(second);
  });
});

describe('redact', () => {
  test('replaces secret-looking fields at any depth, in objects and arrays', () => {
    const input = {
      name: 'Acme',
      clientSecret: 'shh',
      password: 'p@ss',
      config: {
        scimToken: 'tok',
        nested: { secret_hash: 'abc', keyMaterial: 'pem', key_material: 'pem', issuer: 'https://idp' },
        connections: [{ accessToken: 'a', id: 'c1' }, { refresh_token: 'r', id: 'c2' }],
      },
    };
    expect(redact(input)).toEqual({
      name: 'Acme',
      clientSecret: '[redacted]',
      password: '[redacted]',
      config: {
        scimToken: '[redacted]',
        nested: { secret_hash: '[redacted]', keyMaterial: '[redacted]', key_material: '[redacted]', issuer: 'https://idp' },
        connections: [{ accessToken: '[redacted]', id: 'c1' }, { refresh_token: '[redacted]', id: 'c2' }],
      },
    });
  });

  test('redacts a whole secret-named subtree, not just leaves', () => {
    expect(redact({ tokens: { access: 'a', refresh: 'r' }, ok: 1 })).toEqual({ tokens: '[redacted]', ok: 1 });
  });

  test('turns dates into ISO strings and leaves plain values alone', () => {
    expect(redact({ at: new Date('2025-01-02T03:04:05.000Z'), n: 3, b: false, nil: null })).toEqual({
      at: '2025-01-02T03:04:05.000Z', n: 3, b: false, nil: null,
    });
    expect(redact('plain')).toBe('plain');
  });

  test('does not modify its input', () => {
    const input = { password: 'p', inner: { token: 't' } };
    redact(input);
    expect(input).toEqual({ password: 'p', inner: { token: 't' } });
  });
});
