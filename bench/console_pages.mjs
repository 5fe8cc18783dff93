// Page loads of the web console in headless chromium: from navigation to the seeded data rendered,
// for every page (search, object, graph, indicators filtered and sorted by last sighting,
// sightings of an indicator and of the whole feed, cases, a case of 121 vendors, members, feeds),
// LOADS times each; prints p50/p99 in milliseconds, and under each page the requests it made by
// kind with their own p50/p99 (what the load waited on).  Run by bench_console (bench/console.c),
// which starts the server and passes:
//   ACCORD_URL, ACCORD_USER, ACCORD_PASS, CHROMIUM, PLAYWRIGHT_CORE, LOADS, SAMPLES (a JSON file:
//   {"values":[...],"ids":[...],"sighted":[...],"nodes":[...],"cases":[...]}).
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
const { values, ids, sighted, nodes, cases } = JSON.parse(readFileSync(env('SAMPLES'), 'utf8'));

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
    .replace(/\/(object|objects|graph|cases)\/[^/]+/, '/$1/ID')
    .replace(/\/assets\/.*/, '/assets/*')
    .replace(/^\/ui\/.*$/, (p) => (p.startsWith('/ui/assets/') ? p : '/ui/ (index.html)'));
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

const pick = (list, i, k) => list[(i * k) % list.length];
const ctl = (p) => page.locator(p).first().waitFor();

await time('search (one value, rows rendered)', (i) => `${BASE}/ui/search?q=${encodeURIComponent(pick(values, i, 7919))}`, () => ctl('table.hits tbody tr'));
await time(
  'object (versions and relationships)',
  (i) => `${BASE}/ui/object/${encodeURIComponent(pick(ids, i, 104729))}`,
  async () => {
    await ctl('ol.versions');
    await page.locator('table.rels').or(page.getByText('No relationships.')).first().waitFor();
  },
);
await time(
  'object with sightings (sparkline, cases)',
  (i) => `${BASE}/ui/object/${encodeURIComponent(sighted[0])}`,
  async () => {
    await ctl('[data-testid="sparkline"] polyline');
    await page.getByRole('region', { name: 'Cases' }).locator('a').first().waitFor();
  },
);
await time('graph (first expansion drawn)', (i) => `${BASE}/ui/graph/${encodeURIComponent(pick(nodes, i, 7919))}`, async () => {
  await page.waitForFunction(() => document.querySelectorAll('ul.nodes li').length > 1);
  await ctl('[data-testid="graph"] canvas');
});
await time('indicators (newest first)', () => `${BASE}/ui/indicators`, () => ctl('table.indicators tbody tr'));
await time(
  'indicators (with sightings, by last sighting)',
  () => `${BASE}/ui/indicators`,
  async () => {
    await ctl('table.indicators tbody tr');
    const f = page.getByRole('form', { name: 'Filters' });
    await f.locator('select[name="has_sightings"]').selectOption('true');
    await f.locator('select[name="sort"]').selectOption('last_sighting');
    const answered = page.waitForResponse((r) => r.url().includes('sort=last_sighting'));
    await f.locator('button[type="submit"]').click();
    await answered;
    await ctl('table.indicators tbody tr');
  },
);
await time('sightings of an indicator (chart drawn)', (i) => `${BASE}/ui/sightings?indicator=${encodeURIComponent(pick(sighted, i, 7919))}&bucket=hour`, () => ctl('[data-testid="chart"] canvas'));
await time('sightings of the feed (every page, chart)', () => `${BASE}/ui/sightings?collection=default&bucket=day`, () => ctl('[data-testid="chart"] canvas'));
await time('cases (list)', () => `${BASE}/ui/cases`, () => ctl('table.cases tbody tr'));
await time('case (121 vendors, threads, countdown)', () => `${BASE}/ui/cases/${encodeURIComponent(cases[0])}`, async () => {
  await ctl('table.vendors tbody tr');
  await ctl('ul.topics li');
});
await time('members and roster', () => `${BASE}/ui/members`, () => ctl('table.members tbody tr'));
await time('feeds and peers', () => `${BASE}/ui/feeds`, async () => {
  await ctl('table.collections tbody tr');
  await ctl('table.peers tbody tr');
});
await browser.close();
