// The indicators page in Debian's chromium (headless), driven by playwright-core, against the
// `accord serve` that tests/integration/test_console.sh started over tests/browser/seed.json and
// seed_indicators.json.  Filters, XSS payloads as text, and a bulk revoke whose preview count is
// checked against what the API then shows as revoked; no console error, CSP violation or dialog.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, env, launch, shot, accessibility as axeOf, cspViolations } from './harness.mjs';

const SRC_B = 'identity--5a0c4f0e-1b2a-4c3d-8e4f-5a6b7c8d9e02';
const PAYLOADS = ["A1 <script>alert('ind-a1')</script>", "B0 <svg onload=alert('ind-b0')>"];

let browser, page;
let problems = [];

before(async () => {
  ({ browser, page, problems } = await launch());
  await page.goto(`${BASE}/ui/indicators`);
  await page.getByLabel('Account').fill(env('ACCORD_USER'));
  await page.getByLabel('Password').fill(env('ACCORD_PASS'));
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  // the app's session check before login answers 401, which chromium logs as a failed load
  problems.splice(0, problems.length, ...problems.filter((p) => !/status of 401/.test(p)));
});

after(async () => {
  await browser?.close();
});

const accessibility = (name) => axeOf(page, name);

// The API as the page sees it (same session cookie).
const apiGet = (path) => page.evaluate(async (p) => (await fetch(p, { credentials: 'same-origin' })).json(), path);

test('indicators page lists and filters, payloads as text', async () => {
  const table = page.locator('table.indicators');
  await table.waitFor();
  const text = await table.innerText();
  for (const p of PAYLOADS) assert.ok(text.includes(p), `shown as text: ${p}`);
  assert.equal(await page.locator('main img, main script, main svg, main iframe').count(), 0);
  await page.getByLabel('Sightings').selectOption('true');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.indicators tbody tr').length === 1);
  assert.ok((await table.innerText()).includes(PAYLOADS[0]), 'the sighted indicator');
  await shot(page, 'indicators');
  await accessibility('indicators');
});

test('bulk revoke: the preview count is what changes', async () => {
  await page.getByLabel('Sightings').selectOption('');
  await page.getByLabel('Source').fill(SRC_B);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.indicators tbody tr').length === 2);
  const before = await apiGet(`/api/indicators?source=${SRC_B}&revoked=false`);
  await page.getByLabel('Action').selectOption('revoke');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.getByTestId('bulk-count').waitFor();
  const count = Number(await page.getByTestId('bulk-count').innerText());
  assert.equal(count, before.rows.length, 'the preview counts the unrevoked indicators selected');
  assert.ok(count > 0);
  await shot(page, 'indicators-preview');
  await accessibility('indicators preview');
  await page.getByRole('button', { name: `Apply to these ${count}` }).click();
  await page.getByTestId('bulk-done').waitFor();
  assert.match(await page.getByTestId('bulk-done').innerText(), new RegExp(`^${count} indicators? changed`));
  const revoked = await apiGet(`/api/indicators?source=${SRC_B}&revoked=true`);
  const left = await apiGet(`/api/indicators?source=${SRC_B}&revoked=false`);
  assert.equal(revoked.rows.length, count, 'the rows revoked equal the preview count');
  assert.deepEqual(revoked.rows.map((r) => r.id).sort(), before.rows.map((r) => r.id).sort());
  assert.equal(left.rows.length, 0);
  await page.waitForFunction(() => document.querySelectorAll('table.indicators tr.revoked').length === 2);
  await shot(page, 'indicators-revoked');
});

test('indicators: no console errors, no CSP violations, no dialogs', async () => {
  assert.deepEqual(await cspViolations(page), []);
  assert.deepEqual(problems, []);
});
