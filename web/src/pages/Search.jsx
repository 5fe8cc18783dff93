// Search: one exact value, or up to 1,000 pasted (one per line, or separated by blanks or commas).
// One row per stored version that mentions a value, with its type, TLP, the object and its source;
// the values nothing mentions are listed as unknown.
import { useEffect, useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { Link, navigate, objectHref, searchHref } from '../router.jsx';
import { Tlp } from '../safe.jsx';

const MAX_VALUES = 1000;
const PAGE = 200;

export function splitValues(text) {
  const seen = new Set();
  const out = [];
  for (const v of text.split(/[\s,;]+/)) {
    if (v && !seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}

async function fetchPage(values, after) {
  const params = qs({ limit: PAGE, after });
  if (values.length === 1) return api('GET', `/api/search?${qs({ value: values[0] })}&${params}`);
  return api('POST', `/api/search?${params}`, { values });
}

export function Search({ query }) {
  const [text, setText] = useState(query);
  const [values, setValues] = useState(query ? [query] : []);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const run = async (vals, after, prev) => {
    setBusy(true);
    setError(null);
    try {
      const page = await fetchPage(vals, after);
      setResult(
        prev
          ? { ...page, rows: [...prev.rows, ...page.rows], unknown: [...prev.unknown, ...page.unknown], invalid: [...prev.invalid, ...page.invalid] }
          : page,
      );
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    setText(query);
    if (query) {
      setValues([query]);
      run([query]);
    }
  }, [query]);

  const submit = (e) => {
    e.preventDefault();
    const vals = splitValues(text);
    if (!vals.length) return;
    if (vals.length > MAX_VALUES) {
      setError(`${vals.length} values: at most ${MAX_VALUES} at once`);
      return;
    }
    setValues(vals);
    setResult(null);
    if (vals.length === 1) navigate(searchHref(vals[0]));
    else run(vals);
  };

  return (
    <main>
      <h1>Search</h1>
      <form onSubmit={submit} class="search" role="search">
        <label for="q">Values (an IP, CIDR, domain, URL, e-mail address or hash; up to 1,000, one per line)</label>
        <textarea id="q" name="q" rows={values.length > 1 ? 6 : 2} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          Search
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {result && <Results result={result} busy={busy} more={() => run(values, result.next, result)} />}
    </main>
  );
}

function Results({ result, busy, more }) {
  const { rows, unknown, invalid } = result;
  return (
    <section aria-label="Results">
      <p class="summary" data-testid="summary">
        {rows.length} hit{rows.length === 1 ? '' : 's'}
        {result.next ? ' so far' : ''}, {unknown.length} unknown value{unknown.length === 1 ? '' : 's'}
        {invalid.length ? `, ${invalid.length} not searchable` : ''}
      </p>
      {rows.length > 0 && (
        <table class="hits">
          <thead>
            <tr>
              <th scope="col">Value</th>
              <th scope="col">Type</th>
              <th scope="col">TLP</th>
              <th scope="col">Object</th>
              <th scope="col">Source</th>
              <th scope="col">Modified</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.value}|${r.seq}`} class={r.revoked ? 'revoked' : ''}>
                <td class="mono">{r.value}</td>
                <td>{r.type}</td>
                <td>
                  <Tlp level={r.tlp} />
                </td>
                <td>
                  <Link href={objectHref(r.id)}>{r.name || r.id}</Link>
                  {r.name && <div class="mono small">{r.id}</div>}
                  {!r.latest && <div class="small muted">an older version</div>}
                </td>
                <td>{r.source || (r.created_by_ref ? <span class="mono small">{r.created_by_ref}</span> : <span class="muted">—</span>)}</td>
                <td class="mono small">{r.modified}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result.next && (
        <button type="button" onClick={more} disabled={busy}>
          More results
        </button>
      )}
      {unknown.length > 0 && (
        <>
          <h2>Unknown values</h2>
          <ul class="unknown" aria-label="Unknown values">
            {unknown.map((v) => (
              <li class="mono">{v}</li>
            ))}
          </ul>
        </>
      )}
      {invalid.length > 0 && (
        <>
          <h2>Not searchable</h2>
          <ul class="unknown" aria-label="Values that are not searchable">
            {invalid.map((v) => (
              <li class="mono">{v}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
