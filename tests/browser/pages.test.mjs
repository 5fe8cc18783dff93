// The sightings, graph, cases, members and feeds pages in Debian's chromium, against the second
// store tests/integration/test_console.sh seeds (tests/browser/seed_pages.json, a hub with 320
// neighbours, two cases, a roster with a proposal, a failing peer).  The admin `analyst` sees
// everything; `reader` (no organisation: TLP:CLEAR only, an observer of CASE2 alone) must see
// neither the TLP:RED indicator nor the embargoed CASE1, on the pages or through their API.
// Every page: rendered data (screenshot kept), payloads as text, axe-core, and at the end no
// console error, CSP violation or dialog.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

// the browser's own time zone, so that "your local time" differs from UTC and from the case's
process.env.TZ = 'America/New_York';
const { BASE, env, launch, shot: shotOf, accessibility: axeOf, cspViolations } = await import('./harness.mjs');

const IND = 'indicator--c1ea4000-0000-4000-8000-000000000001';
const RED = 'indicator--4ed00000-0000-4000-8000-000000000002';
const MAL = 'malware--c1ea4000-0000-4000-8000-000000000003';
const CASE1 = env('CASE1');
const CASE2 = env('CASE2');
const HUB = env('HUB');

let browser, page;
let problems = [];

before(async () => {
  ({ browser, page, problems } = await launch());
});

after(async () => {
  await browser?.close();
});

const shot = (name) => shotOf(page, name);
const accessibility = (name) => axeOf(page, name);
const status = (path) => page.evaluate(async (p) => (await fetch(p, { credentials: 'same-origin' })).status, path);
const apiGet = (path) => page.evaluate(async (p) => (await fetch(p, { credentials: 'same-origin' })).json(), path);
const noMarkup = async () =>
  assert.equal(await page.locator('main img, main script, main iframe, main b, main i, main svg[onload]').count(), 0, 'no markup from data');
// the browser logs each 404 it was expected to get; nothing else may be dropped
const drop404 = () => problems.splice(0, problems.length, ...problems.filter((p) => !/status of 404/.test(p)));

async function login(user) {
  await page.goto(`${BASE}/ui/`);
  await page.getByLabel('Account').fill(user);
  await page.getByLabel('Password').fill(env('ACCORD_PASS'));
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  // the page asks GET /api/session first: 401 before the login, logged by the browser
  problems.splice(0, problems.length, ...problems.filter((p) => !/status of 401/.test(p)));
}

test('login as the admin', async () => {
  await login(env('ACCORD_USER'));
});

test('sightings page: one indicator per hour, a whole collection per day (uPlot)', async () => {
  await page.goto(`${BASE}/ui/sightings?indicator=${IND}&bucket=hour`);
  await page.locator('table.buckets').waitFor();
  await page.locator('[data-testid="chart"] canvas').waitFor();
  assert.match(await page.getByTestId('sightings-summary').innerText(), /^4 sightings \(10 times seen\)/);
  const rows = await page.locator('table.buckets tbody tr').allInnerTexts();
  assert.deepEqual(
    rows.map((r) => r.replace(/\s+/g, ' ').trim()),
    ['2026-03-04 09:00 1', '2026-03-02 11:00 4', '2026-03-02 10:00 5'],
    'the hours with sightings, newest first, counts summed',
  );
  await noMarkup();
  await shot('sightings');
  await accessibility('sightings');
  // the whole default collection per day: the admin also counts the RED indicator's sightings
  await page.getByLabel('Indicator id').fill('');
  await page.getByLabel(/whole collection/).selectOption({ label: 'Default collection (default)' });
  await page.locator('select[name=bucket]').selectOption('day');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/collection=/);
  await page.getByText(/^6 sightings \(130 times seen\)/).waitFor();
  await page.locator('[data-testid="chart"] canvas').waitFor();
  assert.equal(await page.locator('table.buckets tbody tr').count(), 3);
  await shot('sightings-collection');
});

test('object page: sparkline, cases, and the link to the graph', async () => {
  await page.goto(`${BASE}/ui/object/${IND}`);
  await page.getByTestId('sparkline').waitFor();
  assert.match(await page.getByTestId('sparkline').innerText(), /4 sightings, 10 times seen/);
  assert.equal(await page.locator('[data-testid="sparkline"] polyline').count(), 1);
  const cases = page.getByRole('region', { name: 'Cases' });
  await cases.waitFor();
  const text = await cases.innerText();
  // an admin is no operator of cases: it sees the one it coordinates, not the unpublished one
  // it takes no part in
  assert.ok(text.includes(CASE1) && !text.includes(CASE2), 'the case the admin coordinates');
  assert.ok(text.includes("Parser overflow <img src=x onerror=alert('case')>"), 'the title as text');
  await noMarkup();
  await shot('object-sparkline');
  await accessibility('object with sparkline');
  await page.getByRole('link', { name: 'Relationship graph' }).click();
  await page.waitForURL(/\/ui\/graph\//);
  const nodes = page.getByRole('list', { name: 'Nodes' }).locator('li');
  await page.waitForFunction(() => document.querySelectorAll('ul.nodes li').length === 3);
  const list = await page.getByRole('list', { name: 'Nodes' }).innerText();
  // nodes by type and name, the names as text
  assert.ok(list.includes("malware: Dropper <svg onload=alert('pages-malware')>"), `the malware by type and name: ${list}`);
  assert.ok(list.includes('indicator: Red source only'), 'the admin sees the RED indicator by name');
  assert.ok(list.includes("indicator: Beacon <img src=x onerror=alert('pages-name')>"), 'the root by name');
  assert.equal(await nodes.count(), 3);
  await page.locator('[data-testid="graph"] canvas').first().waitFor();
  assert.ok((await page.locator('h1').innerText()).includes("Beacon <img src=x onerror=alert('pages-name')>"));
  await noMarkup();
  await shot('graph');
  await accessibility('graph');
});

test('graph: expands on demand and stops at 300 nodes', async () => {
  await page.goto(`${BASE}/ui/graph/${HUB}`);
  await page.waitForFunction(() => document.querySelectorAll('ul.nodes li').length === 101);
  for (let i = 0; i < 5 && !(await page.getByText(/has reached 300 nodes/).count()); i++) {
    const before = await page.locator('ul.nodes li').count();
    await page.getByRole('button', { name: `More ${HUB}` }).click();
    await page.waitForFunction((n) => document.querySelectorAll('ul.nodes li').length > n || document.body.innerText.includes('has reached 300 nodes'), before);
  }
  await page.getByText(/has reached 300 nodes/).waitFor();
  assert.equal(await page.locator('ul.nodes li').count(), 300, 'never more than 300 nodes');
  assert.match(await page.locator('main p.small').first().innerText(), /300 nodes, 299 relationships/);
  await shot('graph-capped');
});

test('case page: vendors with "no response", threads, embargo countdown at a fixed clock', async () => {
  // 2030-01-15T09:00:00+09:00 is 2030-01-15T00:00:00Z: 4 d 15 h 29 min 45 s after this instant
  await page.clock.setFixedTime(new Date('2030-01-10T08:30:15Z'));
  await page.goto(`${BASE}/ui/cases`);
  const table = page.locator('table.cases');
  await table.waitFor();
  const listed = await table.innerText();
  assert.ok(listed.includes(CASE1) && !listed.includes(CASE2));
  assert.ok(listed.includes('embargoed'));
  await shot('cases');
  await accessibility('cases');
  await table.getByRole('link', { name: CASE1 }).click();
  await page.getByTestId('countdown').waitFor();
  assert.equal(await page.getByTestId('countdown').innerText(), '4 d 15 h 29 min 45 s');
  assert.equal(await page.getByTestId('embargo-case').innerText(), '2030-01-15 09:00:00 UTC+09:00');
  assert.equal(await page.getByTestId('embargo-utc').innerText(), '2030-01-15 00:00:00 UTC');
  assert.equal(await page.getByTestId('embargo-local').innerText(), '2030-01-14 19:00:00 America/New_York');
  const vendors = page.getByTestId('vendors');
  await vendors.locator('tbody tr').first().waitFor();
  const rows = (await vendors.locator('tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' '));
  const row = (name) => rows.find((r) => r.startsWith(name)) || '';
  assert.match(row('Silent Ltd'), /no response/, 'a vendor silent past the deadline reads "no response"');
  assert.doesNotMatch(row('Silent Ltd'), /not affected/);
  assert.match(row('Globex'), /not affected/);
  assert.match(row('Acme <b>Corp</b>'), /affected/);
  assert.ok(row('Acme <b>Corp</b>').includes("widget <script>alert('product')</script>"), 'the product name as text');
  assert.equal(await vendors.locator('.st-no_response').count(), 2, 'the silent vendor and its "all products" row');
  // threads per topic with unread markers
  const threads = page.getByRole('list', { name: 'Threads' });
  assert.match(await threads.innerText(), /widget \(2\)\s*2 unread/);
  await threads.getByRole('button', { name: /^widget/ }).click();
  const thread = page.getByRole('list', { name: 'Thread widget' });
  await thread.waitFor();
  assert.ok((await thread.innerText()).includes("patch <img src=x onerror=alert('msg')> attached"));
  await page.waitForFunction(() => !/widget \(2\)\s*2 unread/.test(document.querySelector('ul.topics').innerText));
  assert.match(await threads.innerText(), /general \(1\)\s*1 unread/, 'the other thread is still unread');
  // the markers are the account's, kept by the server: a reload (nothing left in the page's
  // memory) shows the same
  await page.reload();
  await page.getByRole('list', { name: 'Threads' }).waitFor();
  assert.doesNotMatch(await threads.innerText(), /widget \(2\)\s*\d+ unread/, 'read before the reload');
  assert.match(await threads.innerText(), /general \(1\)\s*1 unread/);
  assert.ok((await page.locator('h1').innerText()).includes("Parser overflow <img src=x onerror=alert('case')>"));
  await noMarkup();
  await shot('case');
  await accessibility('case');
  // one second later by the clock, one second less
  await page.clock.setFixedTime(new Date('2030-01-10T08:30:16Z'));
  await page.waitForFunction(() => document.querySelector('[data-testid="countdown"]').innerText === '4 d 15 h 29 min 44 s');
});

test('members and roster page', async () => {
  await page.goto(`${BASE}/ui/members`);
  await page.locator('table.members').first().waitFor();
  const main = await page.locator('main').innerText();
  assert.match(main, /Roster version 1 \(1 members, 1 votes to change it\)/);
  assert.ok(main.includes("Org <script>alert('org')</script>"), 'the member name as text');
  assert.ok(main.includes('this node'));
  assert.match(main, /[0-9a-f]{32} root, active/, 'the root key with its fingerprint');
  assert.match(main, /[0-9a-f]{32} signing, active/);
  assert.match(main, /Version 2: 0 of 1 votes/, 'the pending proposal');
  assert.ok(main.includes('Second Org'));
  await noMarkup();
  await shot('members');
  await accessibility('members');
});

test('feeds and peers page', async () => {
  await page.goto(`${BASE}/ui/feeds`);
  await page.locator('table.peers').waitFor();
  const cols = await page.locator('table.collections').innerText();
  assert.ok(cols.includes('Default collection') && cols.includes('default'));
  const peers = (await page.locator('table.peers tbody tr').allInnerTexts()).join('\n');
  assert.ok(peers.includes('upstream') && peers.includes('https://127.0.0.1:9/accord/'));
  assert.match(peers, /1 failed in a row/);
  assert.equal(await page.getByTestId('lag').innerText(), 'never synced');
  await shot('feeds');
  await accessibility('feeds');
});

test('keyboard only: search, object, case', async () => {
  await page.goto(`${BASE}/ui/search`);
  await page.getByLabel(/^Values/).waitFor();
  const tabTo = async (pred, what, arg) => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(pred, arg)) return;
    }
    assert.fail(`${what} is not reachable with Tab`);
  };
  await tabTo(() => document.activeElement.tagName === 'TEXTAREA', 'the search field');
  await page.keyboard.type('192.0.2.77');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.locator('table.hits').waitFor();
  await tabTo(() => !!document.activeElement.closest('table.hits a'), 'a result');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/ui\/object\/indicator--/);
  await page.getByRole('region', { name: 'Cases' }).waitFor();
  await tabTo((id) => document.activeElement.closest('section[aria-label="Cases"] a')?.innerText.includes(id), 'the case link', CASE1);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/ui/cases/${CASE1}$`));
  await page.getByTestId('vendors').waitFor();
  assert.ok((await page.locator('h1').innerText()).includes('Parser overflow'));
});

test('a non-recipient sees neither the TLP:RED indicator nor the embargoed case', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByLabel('Account').waitFor();
  await login('reader');
  // through the API the pages call
  assert.equal(await status(`/api/objects/${RED}`), 404);
  assert.equal(await status(`/api/console/sightings?indicator=${RED}`), 404);
  assert.equal(await status(`/api/cases/${CASE1}`), 404);
  assert.equal(await status(`/api/cases/${CASE1}/vendors`), 404);
  const oc = await apiGet(`/api/console/object-cases?object=${IND}`);
  assert.deepEqual(oc.rows.map((r) => r.id), [CASE2]);
  const rel = await apiGet(`/api/objects/${IND}/relationships`);
  assert.deepEqual(rel.rows.map((r) => r.target_ref), [MAL]);
  const list = await apiGet('/api/cases');
  assert.deepEqual(list.items.map((c) => c.id), [CASE2]);
  // through the pages
  await page.goto(`${BASE}/ui/object/${RED}`);
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /Not found/);
  assert.ok(!(await page.locator('main').innerText()).includes('Red source only'));
  await page.goto(`${BASE}/ui/cases/${CASE1}`);
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /Not found/);
  assert.ok(!(await page.locator('main').innerText()).includes('Parser overflow'));
  await shot('reader-case-not-found');
  await page.goto(`${BASE}/ui/cases`);
  await page.locator('table.cases').waitFor();
  const cases = await page.locator('table.cases').innerText();
  assert.ok(cases.includes(CASE2) && !cases.includes(CASE1));
  await page.goto(`${BASE}/ui/object/${IND}`);
  await page.getByRole('region', { name: 'Cases' }).waitFor();
  const region = await page.getByRole('region', { name: 'Cases' }).innerText();
  assert.ok(region.includes(CASE2) && !region.includes(CASE1));
  assert.match(await page.getByTestId('sparkline').innerText(), /4 sightings, 10 times seen/);
  await page.goto(`${BASE}/ui/graph/${IND}`);
  await page.waitForFunction(() => document.querySelectorAll('ul.nodes li').length === 2);
  const graph = await page.locator('main').innerText();
  assert.ok(!graph.includes(RED) && !graph.includes('Red source only'), 'no trace of the RED indicator');
  assert.ok(graph.includes("malware: Dropper <svg onload=alert('pages-malware')>"));
  await page.goto(`${BASE}/ui/sightings?collection=default&bucket=day`);
  await page.getByText(/^4 sightings \(10 times seen\)/).waitFor();
  await page.goto(`${BASE}/ui/search?q=192.0.2.66`);
  await page.getByRole('list', { name: 'Unknown values' }).waitFor();
  assert.equal(await page.locator('table.hits').count(), 0);
  await page.goto(`${BASE}/ui/feeds`);
  await page.getByText('Peers and their links are shown to admins.').waitFor();
  await shot('reader-feeds');
  await accessibility('feeds (reader)');
  drop404();
});

test('pages: no console errors, no CSP violations, no dialogs', async () => {
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(problems, []);
});
