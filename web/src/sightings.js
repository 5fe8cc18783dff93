// The sightings series of one indicator or one collection, from GET /api/console/sightings: the
// server walks a bounded number of sightings per request and says where to resume; the pages are
// added up here (at most MAX_PAGES requests).
import { api, qs } from './api.js';

const MAX_PAGES = 50;

export async function fetchSeries({ indicator, collection, bucket }) {
  const sums = new Map();
  let after;
  let sightings = 0;
  let count = 0;
  let complete = false;
  for (let i = 0; i < MAX_PAGES; i++) {
    const p = await api('GET', `/api/console/sightings?${qs({ indicator, collection, bucket, after })}`);
    for (const [t, n] of p.buckets) sums.set(t, (sums.get(t) || 0) + n);
    sightings += p.sightings;
    count += p.count;
    if (!p.next) {
      complete = true;
      break;
    }
    after = p.next;
  }
  const buckets = [...sums.entries()].sort((a, b) => a[0] - b[0]);
  return { buckets, sightings, count, complete, bucket };
}

// Every bucket from the first to the last, empty ones as 0 (a time axis without gaps).
export function dense(buckets, width) {
  if (!buckets.length) return [[], []];
  const xs = [];
  const ys = [];
  const byT = new Map(buckets);
  const first = buckets[0][0];
  const last = buckets[buckets.length - 1][0];
  const step = width === 'day' ? 86400 : 3600;
  if ((last - first) / step > 20000) return [buckets.map((b) => b[0]), buckets.map((b) => b[1])];
  for (let t = first; t <= last; t += step) {
    xs.push(t);
    ys.push(byT.get(t) || 0);
  }
  return [xs, ys];
}
