import { cliSandbox } from '../helpers/cli.ts';

// `gatehouse keys rotate` as an operator runs it, against an embedded database in a temp dir.
const cli = cliSandbox({ GATEHOUSE_KEY_PROPAGATION_SECONDS: '120' });
const run = (args: string[]) => cli.run(args);

afterAll(() => cli.cleanup());

const kid = expect.stringMatching(/^[A-Za-z0-9_-]{43}$/);

test('keys rotate prints the new kids and when they sign; the replaced keys and when they retire', async () => {
  // no keys yet: nothing signs, so the first keys sign at once
  const before = Date.now();
  const first = await run(['keys', 'rotate', '--json']);
  expect(first.code).toBe(0);
  const made = JSON.parse(first.stdout);
  expect(made).toEqual({
    keys: [{ kid, alg: 'ES256', activatesAt: expect.any(String) }, { kid, alg: 'RS256', activatesAt: expect.any(String) }],
    retiring: [],
    removed: [],
  });
  expect(Date.parse(made.keys[0].activatesAt)).toBeGreaterThanOrEqual(before - 1000);
  expect(Date.parse(made.keys[0].activatesAt)).toBeLessThanOrEqual(Date.now());
  expect(first.stderr).not.toContain('"d"');

  // then: published now, signing after GATEHOUSE_KEY_PROPAGATION_SECONDS, the old keys retiring
  const second = await run(['keys', 'rotate', '--json']);
  expect(second.code).toBe(0);
  const next = JSON.parse(second.stdout);
  expect(next.keys).toEqual([{ kid, alg: 'ES256', activatesAt: expect.any(String) }, { kid, alg: 'RS256', activatesAt: expect.any(String) }]);
  const activatesAt = Date.parse(next.keys[0].activatesAt);
  expect(activatesAt - Date.now()).toBeGreaterThan(100_000);
  expect(activatesAt - Date.now()).toBeLessThanOrEqual(120_000);
  expect(next.retiring.map((k: { kid: string }) => k.kid).sort()).toEqual(made.keys.map((k: { kid: string }) => k.kid).sort());
  for (const key of next.retiring) expect(Date.parse(key.retiresAt)).toBeGreaterThan(activatesAt);

  const text = await run(['keys', 'rotate']);
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/^new ES256 key [A-Za-z0-9_-]{43}: published now, signs from \d{4}-/m);
  expect(text.stdout).toContain(`key ${next.keys[0].kid}: removed`); // announced, never signed
}, 60_000);

test('keys without a known subcommand prints the usage', async () => {
  const res = await run(['keys']);
  expect(res.code).toBe(2);
  expect(res.stderr).toContain('keys rotate [--json]');
});
