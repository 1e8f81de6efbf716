import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

// Headless Chromium for the console's end-to-end tests: Debian's package (never a downloaded
// browser), driven by playwright-core; axe-core checks each page; screenshots are kept as
// artifacts under test/e2e/artifacts/ (not committed).

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const artifacts = new URL('../e2e/artifacts/', import.meta.url);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * The page's serious and critical accessibility violations (WCAG 2.1 A and AA rules and axe's
 * best practices). axe is evaluated through the DevTools protocol, so the console's CSP, which
 * allows only its own scripts, stays on while it runs.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations;
  }) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Saves a full-page screenshot as test/e2e/artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, artifacts).pathname, fullPage: true });
}

/** Every console page in a test goes through here: no serious axe violation, and a screenshot. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect(await seriousViolations(page)).toEqual([]);
}

/** True when the page is wider than the window (a phone would have to scroll sideways). */
export function overflowsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/** Signs in through the hosted pages from wherever the console sent the browser. */
export async function signInAs(page: Page, creds: { email: string; password: string }, orgName?: string): Promise<void> {
  await page.getByLabel('Email').fill(creds.email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Password').fill(creds.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (orgName) await page.getByRole('button', { name: new RegExp(orgName) }).click();
  await page.waitForURL(/\/admin\/orgs\//);
}
