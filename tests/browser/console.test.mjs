// The console's pages in Debian's chromium (headless), driven by playwright-core, against the
// `accord serve` that tests/integration/test_console.sh started over tests/browser/seed.json.
// Every test watches the page for console errors, uncaught exceptions, CSP violations and
// dialogs (an XSS payload that ran would open one): the last test asserts there were none.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, env, launch, shot as shotOf, accessibility as axeOf, cspViolations as cspOf } from './harness.mjs';

const INDICATOR = 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f';
const MALWARE = 'malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc';
const PAYLOADS = [
  "C2 <img src=x onerror=alert('name')>",
  "CERT <script>alert('identity')</script>",
  "\"><svg onload=alert('description')></svg>",
  "<b onmouseover=alert('label')>label</b>",
  '<i>evil</i>',
];

let browser, page;
let problems = []; // console errors, page errors, CSP violations, dialogs

before(async () => {
  ({ browser, page, problems } = await launch());
});

after(async () => {
  await browser?.close();
});

const shot = (name) => shotOf(page, name);
const accessibility = (name) => axeOf(page, name);
const cspViolations = () => cspOf(page);

test('login', async () => {
  await page.goto(`${BASE}/ui/`);
  await page.getByLabel('Account').waitFor();
  await accessibility('login');
  await page.getByLabel('Account').fill(env('ACCORD_USER'));
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').innerText(), /Login failed/);
  problems.length = 0; // the 401 of that attempt is logged by the browser as a failed load
  await page.getByLabel('Password').fill(env('ACCORD_PASS'));
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/session') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  assert.equal(resp.status(), 200);
  const cookie = (await resp.headersArray()).find((h) => h.name.toLowerCase() === 'set-cookie').value;
  assert.match(cookie, /^__Host-accord=[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict/);
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is HttpOnly');
  assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0, 'nothing in web storage');
  await shot('login');
});

test('search renders the seeded hits as text', async () => {
  await page.getByLabel(/^Values/).fill('198.51.100.7');
  await page.getByRole('button', { name: 'Search' }).click();
  const table = page.locator('table.hits');
  await table.waitFor();
  const rows = table.locator('tbody tr');
  assert.equal(await rows.count(), 2, 'two stored versions of the indicator mention the value');
  const text = await table.innerText();
  assert.ok(text.includes('indicator'));
  assert.ok(text.includes('TLP:AMBER'));
  assert.ok(text.includes(PAYLOADS[0]), 'the name is shown as text');
  assert.ok(text.includes(PAYLOADS[1]), 'the source identity is shown as text');
  assert.equal(await page.locator('img[src="x"], script:not([src]), svg[onload], iframe').count(), 0);
  assert.match(page.url(), /\/ui\/search\?q=198\.51\.100\.7$/);
  await shot('search');
  await accessibility('search');

  // pasted values: hits for two, one unknown
  await page.getByLabel(/^Values/).fill('198.51.100.7\nc2.example.net\n203.0.113.99');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('list', { name: 'Unknown values' }).waitFor();
  assert.equal(await page.getByRole('list', { name: 'Unknown values' }).innerText(), '203.0.113.99');
  assert.equal(await page.locator('table.hits tbody tr').count(), 3);
  await shot('search-many');
});

test('object page: versions with a diff, relationships, safe links', async () => {
  await page.locator('table.hits a', { hasText: PAYLOADS[0] }).first().click();
  await page.waitForURL(/\/ui\/object\/indicator--/);
  await page.locator('ol.versions').waitFor();
  const main = await page.locator('main').innerText();
  for (const p of PAYLOADS.filter((x) => !x.startsWith('CERT'))) assert.ok(main.includes(p), `shown as text: ${p}`);
  assert.equal(await page.locator('ol.versions > li').count(), 2);
  const diff = await page.locator('table.diff').innerText();
  assert.ok(diff.includes('description') && diff.includes('first version'), 'the diff shows the changed description');
  assert.ok(diff.includes('external_references'), 'the diff shows the added references');
  // a javascript: URL is text, an https one a link
  assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
  assert.equal(await page.locator('a[href^="https://example.org/report"]').count(), 1);
  assert.equal(await page.locator('main img, main script, main svg, main iframe, main b, main i').count(), 0);
  const rels = page.locator('table.rels');
  await rels.waitFor();
  assert.ok((await rels.innerText()).includes('indicates'));
  await shot('object');
  await accessibility('object');
  await rels.locator(`a[href$="${MALWARE}"]`).first().click();
  await page.waitForURL(new RegExp(MALWARE));
  await page.locator('table.rels').waitFor();
  assert.ok((await page.locator('h1').innerText()).includes("Loader <iframe src=javascript:alert('malware')>"));
  assert.ok((await page.locator('table.rels').innerText()).includes(INDICATOR));
  await shot('object-malware');
});

test('keyboard only: from search to an object', async () => {
  await page.goto(`${BASE}/ui/search`);
  await page.getByLabel(/^Values/).waitFor();
  await page.keyboard.press('Tab'); // into the page, past the navigation links
  let focused = '';
  for (let i = 0; i < 20 && focused !== 'TEXTAREA'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement.tagName);
  }
  assert.equal(focused, 'TEXTAREA', 'the search field is reachable with Tab');
  await page.keyboard.type('c2.example.net');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.locator('table.hits').waitFor();
  let onLink = false;
  for (let i = 0; i < 20 && !onLink; i++) {
    await page.keyboard.press('Tab');
    onLink = await page.evaluate(() => !!document.activeElement.closest('table.hits a'));
  }
  assert.ok(onLink, 'a result link is reachable with Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/ui\/object\/domain-name--/);
  await page.locator('ol.versions').waitFor();
  assert.ok((await page.locator('h1').innerText()).includes('c2.example.net'));
});

test('a change without the CSRF token is refused', async () => {
  const r = await page.evaluate(async () => {
    const body = JSON.stringify({ values: ['198.51.100.7'] });
    const bare = await fetch('/api/search', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body });
    const s = await (await fetch('/api/session', { credentials: 'same-origin' })).json();
    const withToken = await fetch('/api/search', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body,
    });
    return [bare.status, withToken.status];
  });
  assert.deepEqual(r, [403, 200]);
  problems.splice(0, problems.length, ...problems.filter((p) => !/status of 403/.test(p)));
});

// With a generated store beneath the seeds (ACCORD_CONSOLE_OBJECTS), one of its indicators:
// searched by its value, then its object page, both showing what the generator wrote.
test('a generated indicator is found and shown', { skip: !process.env.BASE_VALUE }, async () => {
  const value = process.env.BASE_VALUE;
  await page.goto(`${BASE}/ui/search?q=${encodeURIComponent(value)}`);
  const table = page.locator('table.hits');
  await table.waitFor();
  const text = await table.innerText();
  assert.ok(text.includes(process.env.BASE_ID), 'the generated indicator is a hit');
  assert.ok(text.includes('TLP:GREEN'), 'with its marking');
  await table.locator('tr', { hasText: process.env.BASE_ID }).locator('a').first().click();
  await page.waitForURL(/\/ui\/object\/indicator--/);
  await page.locator('ol.versions').waitFor();
  assert.ok((await page.locator('main').innerText()).includes(value), 'its pattern is shown');
  await shot('search-generated');
});

test('no console errors, no CSP violations, no dialogs', async () => {
  assert.deepEqual(await cspViolations(), []);
  assert.deepEqual(problems, []);
});
