import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PlanCatalog, PlanCatalogError } from '../../src/modules/billing/plans.ts';
import { assertFeature, type Entitlements } from '../../src/modules/billing/entitlements.ts';

const dir = mkdtempSync(join(tmpdir(), 'plans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shipped = () => PlanCatalog.load({ plansFile: undefined, defaultPlan: 'enterprise' });
const plan = (key: string, extra: object = {}) => ({
  key, name: key, stripePriceId: null, seats: 1, features: [], roles: ['owner'], auditRetentionDays: 7,
  gateway: { orgRateLimit: 1, keyRateLimit: 1 }, apiKeyLimit: 1, ...extra,
});

function problemsOf(document: unknown, defaultPlan = 'free'): string[] {
  try {
    PlanCatalog.parse(document, defaultPlan);
  } catch (err) {
    if (err instanceof PlanCatalogError) return err.problems.map((p) => p.replace(/^GATEHOUSE_PLANS plans: /, ''));
    throw err;
  }
  return [];
}

test('the shipped example: free, starter, team, enterprise, cheapest first, as the issue describes them', () => {
  const plans = shipped();
  expect(plans.all().map((p) => p.key)).toEqual(['free', 'starter', 'team', 'enterprise']);
  expect(plans.selfHosted.key).toBe('enterprise');
  expect(plans.free).toMatchObject({ seats: 1, stripePriceId: null, auditRetentionDays: 7 });
  expect([...plans.free.roles]).toEqual(['owner']);
  expect(plans.free.features.size).toBe(0);
  expect([...plans.get('starter')!.roles]).toEqual(['owner', 'admin', 'member']);
  expect(plans.get('team')).toMatchObject({ auditRetentionDays: 30, stripePriceId: 'price_team_example' });
  expect(plans.get('team')!.roles.has('viewer')).toBe(true);
  expect(plans.get('enterprise')).toMatchObject({ seats: null, auditRetentionDays: null, apiKeyLimit: null });
  expect(plans.cheapestWith('sso')?.key).toBe('enterprise');
  expect(plans.cheapestWith('custom_roles')?.key).toBe('team');
  expect(plans.get('nope')).toBeUndefined();
});

test('a bad plans file lists every problem at once', () => {
  const problems = problemsOf({
    plans: [plan('free', { seats: 0, features: ['sso', 'teleport'], roles: ['admin'], stripePriceId: 'prod_x', extra: 1 })],
  });
  expect(problems).toEqual(expect.arrayContaining([
    expect.stringMatching(/^plans\.0\.seats:/),
    expect.stringMatching(/^plans\.0\.features\.1:/),
    expect.stringMatching(/^plans\.0\.roles: must include owner/),
    expect.stringMatching(/^plans\.0\.stripePriceId: must be a Stripe price id/),
    expect.stringMatching(/^plans\.0: Unrecognized key/),
  ]));
});

test('duplicates, a missing free plan and an unknown default plan are refused', () => {
  expect(problemsOf({ plans: [plan('team', { stripePriceId: 'price_a' }), plan('team', { stripePriceId: 'price_a' })] }, 'gold')).toEqual([
    'plans: the key "team" is used twice',
    'plans: the price "price_a" is used twice',
    'plans: a plan keyed "free" is required (orgs without a subscription have it while billing is on)',
    'defaultPlan: GATEHOUSE_DEFAULT_PLAN "gold" is not a plan in the file',
  ]);
  expect(problemsOf(null)).toEqual(['(root): Invalid input: expected object, received null']);
});

test('GATEHOUSE_PLANS: a file is read and validated; broken YAML names the file', () => {
  const good = join(dir, 'good.yaml');
  writeFileSync(good, stringify({ plans: [plan('free'), plan('pro', { stripePriceId: 'price_pro', features: ['teams'] })] }));
  expect(PlanCatalog.load({ plansFile: good, defaultPlan: 'pro' }).selfHosted.features.has('teams')).toBe(true);
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'plans: [\n');
  expect(() => PlanCatalog.load({ plansFile: broken, defaultPlan: 'free' })).toThrow(/broken\.yaml/);
  expect(() => PlanCatalog.load({ plansFile: join(dir, 'missing.yaml'), defaultPlan: 'free' })).toThrow(PlanCatalogError);
});

test('assertFeature names the cheapest plan that has the feature', () => {
  const plans = shipped();
  const onFree: Entitlements = { plan: plans.free, status: 'none', billing: true };
  expect(() => assertFeature(onFree, 'custom_roles', plans)).toThrow(expect.objectContaining({
    status: 402, code: 'plan.feature_unavailable', detail: expect.stringMatching(/Team plan \(team\)/),
  }));
  expect(() => assertFeature({ ...onFree, plan: plans.get('team')! }, 'custom_roles', plans)).not.toThrow();
});
