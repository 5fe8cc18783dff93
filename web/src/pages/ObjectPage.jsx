// Object: every version with what changed from the one before, its signatures, its TLP, its
// relationships (a paginated table), and links to the pages that come later (sightings, graph).
import { useEffect, useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { Link, objectHref } from '../router.jsx';
import { diffObjects } from '../diff.js';
import { asText, ExternalLink, Tlp } from '../safe.jsx';
import { Sparkline, sightingsHref } from './Sightings.jsx';
import { graphHref } from './Graph.jsx';
import { caseHref } from './Cases.jsx';

const SIG_EXT = 'extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31';
const REL_PAGE = 50;

function signersOf(obj) {
  const ext = obj && obj.extensions && obj.extensions[SIG_EXT];
  const sigs = ext && Array.isArray(ext.signatures) ? ext.signatures : [];
  return sigs.map((s) => (s && typeof s.signer_ref === 'string' ? s.signer_ref : '?'));
}

function Properties({ obj }) {
  const keys = Object.keys(obj).filter((k) => k !== 'extensions' || !obj.extensions[SIG_EXT] || Object.keys(obj.extensions).length > 1);
  return (
    <table class="props">
      <tbody>
        {keys.map((k) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>
              <Value name={k} value={obj[k]} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Value({ name, value }) {
  if (name === 'external_references' && Array.isArray(value))
    return (
      <ul class="refs">
        {value.map((r, i) => (
          <li key={i}>
            {r && r.source_name ? <span>{asText(r.source_name)} </span> : null}
            {r && r.external_id ? <span class="mono">{asText(r.external_id)} </span> : null}
            {r && r.url ? <ExternalLink url={r.url} /> : null}
            {r && r.description ? <div class="small">{asText(r.description)}</div> : null}
          </li>
        ))}
      </ul>
    );
  if (typeof value === 'string' && /_ref$/.test(name) && value.includes('--')) return <Link href={objectHref(value)}>{value}</Link>;
  if (Array.isArray(value) && /_refs$/.test(name))
    return (
      <ul class="refs">
        {value.map((v, i) => (
          <li key={i}>{typeof v === 'string' && v.includes('--') ? <Link href={objectHref(v)}>{v}</Link> : asText(v)}</li>
        ))}
      </ul>
    );
  return <span class={typeof value === 'string' ? 'text' : 'mono'}>{asText(value)}</span>;
}

function Versions({ versions, signatures }) {
  const byModified = new Map(signatures.map((s) => [s.modified, s]));
  return (
    <ol class="versions" reversed>
      {versions
        .map((v, i) => ({ v, prev: i > 0 ? versions[i - 1] : null }))
        .reverse()
        .map(({ v, prev }) => {
          const sig = byModified.get(v.modified);
          const changes = prev ? diffObjects(prev.object, v.object) : null;
          const signers = signersOf(v.object);
          return (
            <li key={v.modified + v.seq}>
              <div class="vhead">
                <span class="mono">{v.modified || '(no modified)'}</span> <Tlp level={v.tlp} /> {v.revoked && <span class="badge">revoked</span>}{' '}
                <span class="small muted">added {v.added}</span>
              </div>
              <div class="small">
                Signatures: <span class={`sig sig-${sig ? sig.status : 'none'}`}>{sig ? sig.status : 'unverified'}</span>
                {sig && sig.valid ? ` (${sig.valid} valid${sig.unknown ? `, ${sig.unknown} by unknown keys` : ''})` : ''}
                {sig && sig.reason ? ` — ${sig.reason}` : ''}
                {signers.length > 0 && (
                  <span>
                    {' '}
                    by{' '}
                    {signers.map((s, i) => (
                      <span key={i} class="mono">
                        {i ? ', ' : ''}
                        {s}
                      </span>
                    ))}
                  </span>
                )}
              </div>
              {changes === null ? (
                <div class="small muted">first version</div>
              ) : changes.length === 0 ? (
                <div class="small muted">no property changed</div>
              ) : (
                <table class="diff">
                  <tbody>
                    {changes.map((c) => (
                      <tr key={c.key} class={c.kind}>
                        <th scope="row">{c.key}</th>
                        <td class="before mono">{c.before ?? ''}</td>
                        <td class="after mono">{c.after ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </li>
          );
        })}
    </ol>
  );
}

function Relationships({ id }) {
  const [rows, setRows] = useState([]);
  const [next, setNext] = useState(undefined);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const load = async (after, prev) => {
    setBusy(true);
    try {
      let page = await api('GET', `/api/objects/${encodeURIComponent(id)}/relationships?${qs({ limit: REL_PAGE, after })}`);
      let got = [...prev, ...page.rows];
      // a page may end early when the scan budget ran out: keep going until rows or the end
      while (page.next && got.length === prev.length) {
        page = await api('GET', `/api/objects/${encodeURIComponent(id)}/relationships?${qs({ limit: REL_PAGE, after: page.next })}`);
        got = [...got, ...page.rows];
      }
      setRows(got);
      setNext(page.next);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    setRows([]);
    setNext(undefined);
    load(undefined, []);
  }, [id]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  return (
    <>
      {rows.length === 0 && next !== undefined && !busy && <p class="muted">No relationships.</p>}
      {rows.length > 0 && (
        <table class="rels">
          <thead>
            <tr>
              <th scope="col">Relationship</th>
              <th scope="col">Other object</th>
              <th scope="col">TLP</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const outgoing = r.source_ref === id;
              const other = outgoing ? r.target_ref : r.source_ref;
              return (
                <tr key={r.id}>
                  <td>
                    {outgoing ? '' : '← '}
                    {r.relationship_type}
                    {outgoing ? ' →' : ''}
                  </td>
                  <td>
                    <Link href={objectHref(other)}>{other}</Link>
                  </td>
                  <td>
                    <Tlp level={r.tlp} />
                  </td>
                  <td>
                    <Link href={objectHref(r.id)} class="mono small">
                      {r.id}
                    </Link>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" disabled={busy} onClick={() => load(next, rows)}>
          More relationships
        </button>
      )}
    </>
  );
}

// The disclosure cases that link this object and that the caller may see.
function ObjectCases({ id }) {
  const [rows, setRows] = useState([]);
  useEffect(() => {
    setRows([]);
    api('GET', `/api/console/object-cases?${qs({ object: id })}`).then(
      (p) => setRows(p.rows),
      () => setRows([]),
    );
  }, [id]);
  if (!rows.length) return null;
  return (
    <section aria-label="Cases">
      <h2>Cases</h2>
      <ul class="refs">
        {rows.map((c) => (
          <li key={c.id}>
            <Link href={caseHref(c.id)}>
              <span class="mono">{c.id}</span> <span class="text">{c.title}</span>
            </Link>
            {c.embargoed && <span class="badge embargoed">embargoed</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ObjectPage({ id }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setData(null);
    setError(null);
    api('GET', `/api/objects/${encodeURIComponent(id)}?limit=500`).then(setData, (e) => setError(e.message));
  }, [id]);
  if (error)
    return (
      <main>
        <h1 class="mono">{id}</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </main>
    );
  if (!data || data.id !== id) return <p class="muted">Loading…</p>;
  const latest = data.versions[data.versions.length - 1];
  const obj = latest.object;
  return (
    <main>
      <h1>
        <span class="text">{asText(obj.name || obj.value || obj.id)}</span> <Tlp level={latest.tlp} />
      </h1>
      <p class="mono small">
        {data.type} · {id}
      </p>
      <nav class="related" aria-label="Related pages">
        {data.type === 'indicator' && (
          <>
            <Link href={sightingsHref({ indicator: id, bucket: 'day' })}>Sightings over time</Link> <Sparkline indicator={id} /> ·{' '}
          </>
        )}
        <Link href={graphHref(id)}>Relationship graph</Link>
      </nav>
      <ObjectCases id={id} />
      <h2>Latest version</h2>
      <Properties obj={obj} />
      <h2>
        Versions ({data.versions.length}
        {data.next ? '+' : ''})
      </h2>
      <Versions versions={data.versions} signatures={data.signatures} />
      <h2>Relationships</h2>
      <Relationships id={id} />
    </main>
  );
}
