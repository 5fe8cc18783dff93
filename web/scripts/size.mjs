// Prints the gzipped size of the JavaScript index.html loads first (its module scripts and their
// static imports, i.e. the modulepreload links), and fails when it passes the budget.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 100 * 1024;
const dir = process.argv[2] || 'dist';
const html = readFileSync(join(dir, 'index.html'), 'utf8');
const srcs = new Set();
for (const m of html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) srcs.add(m[1]);
for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) srcs.add(m[1]);
let raw = 0;
let gz = 0;
for (const s of srcs) {
  const data = readFileSync(join(dir, s.replace(/^\/ui\//, '')));
  raw += data.length;
  gz += gzipSync(data, { level: 9 }).length;
}
const kb = (n) => (n / 1024).toFixed(1);
console.log(`console: initial JavaScript ${kb(gz)} kB gzipped (${kb(raw)} kB raw, ${srcs.size} file(s)); budget ${kb(BUDGET)} kB`);
if (srcs.size === 0) {
  console.error('console: index.html loads no script');
  process.exit(1);
}
if (gz > BUDGET) {
  console.error('console: initial JavaScript is over budget');
  process.exit(1);
}
