// Sightings over time: per hour or per day, of one indicator or of a whole collection (a feed),
// drawn with uPlot (loaded only on this page) and listed in a table beside the chart.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { BASE, Link, navigate, objectHref } from '../router.jsx';
import { dense, fetchSeries } from '../sightings.js';

const TABLE_ROWS = 200;

export const sightingsHref = (params) => `${BASE}/sightings?${new URLSearchParams(params)}`;

function Chart({ xs, ys, label }) {
  const el = useRef(null);
  useEffect(() => {
    let plot = null;
    let gone = false;
    Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      if (gone || !el.current) return;
      const width = Math.max(320, Math.min(1100, el.current.clientWidth || 900));
      plot = new UPlot(
        {
          width,
          height: 300,
          title: label,
          scales: { x: { time: true } },
          series: [{}, { label: 'sightings', stroke: '#1d4e89', fill: 'rgba(29,78,137,0.15)', width: 1.5 }],
          axes: [{}, { label: 'sightings' }],
        },
        [xs, ys],
        el.current,
      );
    });
    return () => {
      gone = true;
      if (plot) plot.destroy();
    };
  }, [xs, ys, label]);
  return <div ref={el} class="chart" role="img" aria-label={`${label}: chart of sightings over time`} data-testid="chart" />;
}

export function Sightings({ search }) {
  const params = new URLSearchParams(search);
  const indicator = params.get('indicator') || undefined;
  const collection = params.get('collection') || undefined;
  const bucket = params.get('bucket') === 'day' ? 'day' : 'hour';
  const [series, setSeries] = useState(null);
  const [error, setError] = useState(null);
  const [collections, setCollections] = useState([]);
  useEffect(() => {
    api('GET', '/api/console/collections?limit=500').then(
      (p) => setCollections(p.rows),
      () => setCollections([]),
    );
  }, []);
  useEffect(() => {
    setSeries(null);
    setError(null);
    if (!indicator && !collection) return;
    fetchSeries({ indicator, collection, bucket }).then(setSeries, (e) => setError(e.message));
  }, [indicator, collection, bucket]);
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const ind = String(f.get('indicator') || '').trim();
    const col = String(f.get('collection') || '');
    const p = { bucket: String(f.get('bucket')) };
    if (ind) p.indicator = ind;
    else if (col) p.collection = col;
    navigate(sightingsHref(p));
  };
  const [xs, ys] = series ? dense(series.buckets, bucket) : [[], []];
  const what = indicator ? `indicator ${indicator}` : collection ? `collection ${(collections.find((c) => c.id === collection) || {}).title || collection}` : '';
  return (
    <main>
      <h1>Sightings over time</h1>
      <form class="filters" onSubmit={submit} aria-label="Which sightings">
        <label>
          Indicator id <input name="indicator" size={50} value={indicator || ''} />
        </label>
        <label>
          or a whole collection{' '}
          <select name="collection" value={collection || ''}>
            <option value="">—</option>
            {collections.map((c) => (
              <option value={c.id} key={c.id}>
                {c.title} ({c.alias || c.id})
              </option>
            ))}
          </select>
        </label>
        <label>
          Per{' '}
          <select name="bucket" value={bucket}>
            <option value="hour">hour</option>
            <option value="day">day</option>
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      {indicator && (
        <p class="small">
          <Link href={objectHref(indicator)}>The indicator's page</Link>
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {(indicator || collection) && !series && !error && <p class="muted">Loading…</p>}
      {series && (
        <section aria-label="Sightings">
          <p class="summary" data-testid="sightings-summary">
            {series.sightings} sighting{series.sightings === 1 ? '' : 's'} ({series.count} times seen) of {what}, per {bucket}
            {series.complete ? '' : ' (the first part of a long series)'}
          </p>
          {series.buckets.length > 0 && <Chart xs={xs} ys={ys} label={`Sightings per ${bucket}`} />}
          {series.buckets.length > 0 && (
            <table class="buckets">
              <caption class="small muted">
                The {Math.min(TABLE_ROWS, series.buckets.length)} most recent {bucket}s with sightings
              </caption>
              <thead>
                <tr>
                  <th scope="col">{bucket === 'day' ? 'Day (UTC)' : 'Hour (UTC)'}</th>
                  <th scope="col">Times seen</th>
                </tr>
              </thead>
              <tbody>
                {series.buckets
                  .slice(-TABLE_ROWS)
                  .reverse()
                  .map(([t, n]) => (
                    <tr key={t}>
                      <td class="mono">{new Date(t * 1000).toISOString().slice(0, bucket === 'day' ? 10 : 16).replace('T', ' ')}</td>
                      <td>{n}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </main>
  );
}

// A small chart of an indicator's sightings per day for its object page: an SVG polyline drawn
// here (no library on the object page).
export function Sparkline({ indicator }) {
  const [series, setSeries] = useState(null);
  useEffect(() => {
    setSeries(null);
    fetchSeries({ indicator, bucket: 'day' }).then(setSeries, () => setSeries({ buckets: [], sightings: 0, count: 0 }));
  }, [indicator]);
  if (!series) return <span class="muted small">sightings…</span>;
  if (!series.buckets.length) return <span class="muted small" data-testid="sparkline">no sighting</span>;
  const [xs, ys] = dense(series.buckets, 'day');
  const W = 160;
  const H = 28;
  const max = Math.max(1, ...ys);
  const n = Math.max(1, xs.length - 1);
  const pts = ys.map((y, i) => `${((i / n) * W).toFixed(1)},${(H - 2 - (y / max) * (H - 4)).toFixed(1)}`).join(' ');
  return (
    <span class="spark" data-testid="sparkline">
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${series.count} times seen over ${xs.length} days`}>
        <polyline points={pts} fill="none" stroke="#1d4e89" stroke-width="1.5" />
      </svg>{' '}
      <span class="small">
        {series.sightings} sighting{series.sightings === 1 ? '' : 's'}, {series.count} times seen
      </span>
    </span>
  );
}
