// What the browser tests share: the settings tests/integration/test_console.sh passes in the
// environment, a headless Debian chromium driven by playwright-core whose page records every
// console error, uncaught exception, CSP violation and dialog (an XSS payload that ran would open
// one), screenshots, and axe-core's accessibility check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run tests/integration/test_console.sh`);
  return v;
};
export const BASE = env('ACCORD_URL');
export const ART = env('ARTIFACTS');
const require = createRequire(import.meta.url);
const { chromium } = require(env('PLAYWRIGHT_CORE'));
// axe-core sits beside playwright-core in web/node_modules
const AXE = readFileSync(join(env('PLAYWRIGHT_CORE'), '..', 'axe-core', 'axe.min.js'), 'utf8');

// launch(): { browser, context, page, problems }; problems collects what a page must never do.
export async function launch() {
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  // runs before the page's own scripts, outside its CSP: records every violation report
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => {
    problems.push(`dialog opened: ${d.message()}`);
    await d.dismiss();
  });
  return { browser, context, page, problems };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ART, `${name}.png`), fullPage: true });
}

// axe-core's serious and critical violations on the current page.  It is evaluated through the
// DevTools protocol, which the page's CSP does not govern (an injected <script> would be blocked).
export async function accessibility(page, name) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(found, [], `accessibility of the ${name} page`);
}

export async function cspViolations(page) {
  return page.evaluate(() => window.__csp || []);
}
