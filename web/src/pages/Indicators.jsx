// Indicators: the latest version of each indicator, filtered (observable type, TLP, source,
// valid until, sightings), newest or most recently sighted first, 100 per page.  Bulk revoke or
// extend works in two steps: the preview counts what the filters select and returns a token; the
// apply changes exactly those indicators (the server refuses when the selection changed since).
import { useEffect, useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { Link, objectHref } from '../router.jsx';
import { Tlp } from '../safe.jsx';

const PAGE = 100;
const EMPTY = { type: '', tlp: '', source: '', valid_until_before: '', has_sightings: '', sort: 'added' };

// The filters as the API takes them: only the ones set; dates as RFC 3339 UTC timestamps.
function apiFilter(f) {
  const out = {};
  for (const [k, v] of Object.entries(f)) {
    if (!v) continue;
    out[k] = k === 'valid_until_before' ? `${v}T00:00:00Z` : v;
  }
  return out;
}

function Filters({ value, onApply, busy }) {
  const [f, setF] = useState(value);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    onApply(f);
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Filters">
      <label>
        Type <input name="type" value={f.type} onInput={set('type')} placeholder="ipv4-addr" />
      </label>
      <label>
        TLP{' '}
        <select name="tlp" value={f.tlp} onChange={set('tlp')}>
          <option value="">any</option>
          {['clear', 'green', 'amber', 'amber+strict', 'red'].map((t) => (
            <option value={t}>{t.toUpperCase()}</option>
          ))}
        </select>
      </label>
      <label>
        Source <input name="source" value={f.source} onInput={set('source')} placeholder="identity--…" />
      </label>
      <label>
        Valid until before <input name="valid_until_before" type="date" value={f.valid_until_before} onInput={set('valid_until_before')} />
      </label>
      <label>
        Sightings{' '}
        <select name="has_sightings" value={f.has_sightings} onChange={set('has_sightings')}>
          <option value="">any</option>
          <option value="true">with sightings</option>
          <option value="false">without sightings</option>
        </select>
      </label>
      <label>
        Sort{' '}
        <select name="sort" value={f.sort} onChange={set('sort')}>
          <option value="added">newest first</option>
          <option value="last_sighting">last sighting</option>
        </select>
      </label>
      <button type="submit" disabled={busy}>
        Filter
      </button>
    </form>
  );
}

function Bulk({ filter, onDone }) {
  const [action, setAction] = useState('revoke');
  const [until, setUntil] = useState('');
  const [preview, setPreview] = useState(null);
  const [msg, setMsg] = useState(null);
  const [error, setError] = useState(null);
  const { sort, ...sel } = apiFilter(filter);
  const body = () => ({ action, filter: sel, ...(action === 'extend' ? { valid_until: `${until}T00:00:00Z` } : {}) });
  const doPreview = async (e) => {
    e.preventDefault();
    setError(null);
    setMsg(null);
    try {
      setPreview({ ...(await api('POST', '/api/indicators/bulk/preview', body())), body: body() });
    } catch (err) {
      setError(err.message);
    }
  };
  const apply = async () => {
    setError(null);
    try {
      const r = await api('POST', '/api/indicators/bulk', { ...preview.body, token: preview.token });
      setMsg(`${r.changed} indicator${r.changed === 1 ? '' : 's'} changed`);
      setPreview(null);
      onDone();
    } catch (err) {
      setError(err.message);
      setPreview(null);
    }
  };
  return (
    <section aria-label="Bulk change" class="bulk">
      <h2>Bulk change</h2>
      <form onSubmit={doPreview}>
        <label>
          Action{' '}
          <select name="action" value={action} onChange={(e) => { setAction(e.currentTarget.value); setPreview(null); }}>
            <option value="revoke">revoke</option>
            <option value="extend">extend valid until</option>
          </select>
        </label>
        {action === 'extend' && (
          <label>
            New valid until <input name="new_valid_until" type="date" required value={until} onInput={(e) => { setUntil(e.currentTarget.value); setPreview(null); }} />
          </label>
        )}
        <button type="submit">Preview</button>
      </form>
      {preview && (
        <p data-testid="bulk-preview">
          <span data-testid="bulk-count">{preview.count}</span> indicator{preview.count === 1 ? '' : 's'} would{' '}
          {preview.action === 'revoke' ? 'be revoked' : 'get the new valid until'}.{' '}
          <button type="button" onClick={apply} disabled={preview.count === 0}>
            Apply to these {preview.count}
          </button>
        </p>
      )}
      {msg && (
        <p role="status" data-testid="bulk-done">
          {msg}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

export function Indicators({ admin }) {
  const [filter, setFilter] = useState(EMPTY);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const load = async (f, after, prev) => {
    setBusy(true);
    setError(null);
    try {
      const page = await api('GET', `/api/indicators?${qs({ ...apiFilter(f), limit: PAGE, after })}`);
      setResult(prev ? { ...page, rows: [...prev.rows, ...page.rows] } : page);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    load(filter);
  }, [filter]);
  return (
    <main>
      <h1>Indicators</h1>
      <Filters value={filter} onApply={(f) => setFilter({ ...f })} busy={busy} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {admin && <Bulk filter={filter} onDone={() => load(filter)} />}
      {result && (
        <section aria-label="Indicators">
          <p class="summary" data-testid="ind-summary">
            {result.rows.length} indicator{result.rows.length === 1 ? '' : 's'}
            {result.next ? ' so far' : ''}
          </p>
          {result.rows.length > 0 && (
            <table class="indicators">
              <thead>
                <tr>
                  <th scope="col">Indicator</th>
                  <th scope="col">Type</th>
                  <th scope="col">TLP</th>
                  <th scope="col">Source</th>
                  <th scope="col">Valid until</th>
                  <th scope="col">Sightings</th>
                  <th scope="col">Last sighting</th>
                </tr>
              </thead>
              <tbody>
                {result.rows.map((r) => (
                  <tr key={r.seq} class={r.revoked ? 'revoked' : ''}>
                    <td>
                      <Link href={objectHref(r.id)}>{r.name || r.id}</Link>
                      <div class="mono small">{r.pattern}</div>
                      {r.revoked && <div class="small muted">revoked</div>}
                    </td>
                    <td>{r.type}</td>
                    <td>
                      <Tlp level={r.tlp} />
                    </td>
                    <td class="mono small">{r.source || '—'}</td>
                    <td class="mono small">{r.valid_until || '—'}</td>
                    <td>{r.sightings}</td>
                    <td class="mono small">{r.last_sighting || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {result.next && (
            <button type="button" onClick={() => load(filter, result.next, result)} disabled={busy}>
              More indicators
            </button>
          )}
        </section>
      )}
    </main>
  );
}
