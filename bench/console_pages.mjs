// Page loads of the web console in headless chromium: from navigation to the seeded data rendered,
// for the search page (one value) and the object page (versions and the relationships table),
// LOADS times each; prints p50/p99 in milliseconds, and under each page the requests it made by
// kind with their own p50/p99 (what the load waited on).  Run by bench_console (bench/console.c), which
// starts the server and passes:
//   ACCORD_URL, ACCORD_USER, ACCORD_PASS, CHROMIUM, PLAYWRIGHT_CORE, LOADS, SAMPLES (a JSON file:
//   {"values":[...],"ids":[...]}).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (bench_console sets it)`);
  return v;
};
const require = createRequire(import.meta.url);
const { chromium } = require(env('PLAYWRIGHT_CORE'));
const BASE = env('ACCORD_URL');
const LOADS = Number(env('LOADS'));
const { values, ids } = JSON.parse(readFileSync(env('SAMPLES'), 'utf8'));

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ ignoreHTTPSErrors: true });
const page = await context.newPage();
await page.goto(`${BASE}/ui/`);
await page.getByLabel('Account').fill(env('ACCORD_USER'));
await page.getByLabel('Password').fill(env('ACCORD_PASS'));
await page.getByRole('button', { name: 'Log in' }).click();
await page.getByRole('navigation', { name: 'Pages' }).waitFor();

// What a page load waits on: each request it makes, by kind (the path with ids and values cut),
// timed from its start to its last byte in the browser.
let calls = null;
page.on('requestfinished', (rq) => {
  if (!calls) return;
  const t = rq.timing();
  const kind = new URL(rq.url()).pathname
    .replace(/\/(object|objects)\/[^/]+/, '/$1/ID')
    .replace(/\/assets\/.*/, '/assets/*')
    .replace(/^\/ui\/(search|object\/ID)$/, '/ui/ (index.html)');
  if (t.responseEnd >= 0) (calls[`${rq.method()} ${kind}`] ??= []).push(t.responseEnd);
});

const pct = (v, p) => v[Math.min(v.length - 1, Math.floor(v.length * p))];

async function time(label, url, ready) {
  const ms = [];
  calls = {};
  for (let i = 0; i < LOADS; i++) {
    const t0 = performance.now();
    await page.goto(url(i));
    await ready();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(`page ${label.padEnd(39)} p50 ${pct(ms, 0.5).toFixed(2).padStart(8)} ms  p99 ${pct(ms, 0.99).toFixed(2).padStart(8)} ms  (${LOADS} loads)`);
  for (const [kind, v] of Object.entries(calls)) {
    v.sort((a, b) => a - b);
    console.log(`       ${kind.padEnd(45)} p50 ${pct(v, 0.5).toFixed(2).padStart(8)} ms  p99 ${pct(v, 0.99).toFixed(2).padStart(8)} ms  (${v.length} requests)`);
  }
  calls = null;
}

await time(
  'search (one value, rows rendered)',
  (i) => `${BASE}/ui/search?q=${encodeURIComponent(values[(i * 7919) % values.length])}`,
  () => page.locator('table.hits tbody tr').first().waitFor(),
);
await time(
  'object (versions and relationships)',
  (i) => `${BASE}/ui/object/${encodeURIComponent(ids[(i * 104729) % ids.length])}`,
  async () => {
    await page.locator('ol.versions').waitFor();
    await page.locator('table.rels').or(page.getByText('No relationships.')).first().waitFor();
  },
);
await browser.close();
