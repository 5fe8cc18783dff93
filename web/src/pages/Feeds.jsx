// Feeds and peers: the collections the caller may read (each with its sightings over time), and
// for admins the peers this node pulls from and pushes to, with the health of each link.
import { useEffect, useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { ExternalLink } from '../safe.jsx';
import { Link } from '../router.jsx';
import { sightingsHref } from './Sightings.jsx';

function lag(s) {
  if (s === null || s === undefined) return 'never synced';
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function usePaged(path, enabled = true) {
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const load = async (after, prev) => {
    try {
      const p = await api('GET', `${path}?${qs({ limit: 100, after })}`);
      setRows([...prev, ...p.rows]);
      setNext(p.next);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    if (enabled) load(undefined, []);
  }, [path, enabled]);
  return { rows, next, error, more: () => load(next, rows) };
}

export function Feeds({ admin }) {
  const cols = usePaged('/api/console/collections');
  const peers = usePaged('/api/console/peers', admin);
  return (
    <main>
      <h1>Feeds and peers</h1>
      <h2>Collections you may read</h2>
      {cols.error && (
        <p class="error" role="alert">
          {cols.error.message}
        </p>
      )}
      {cols.rows && cols.rows.length === 0 && <p class="muted">None.</p>}
      {cols.rows && cols.rows.length > 0 && (
        <table class="collections">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">API root / alias</th>
              <th scope="col">Id</th>
              <th scope="col">Sightings</th>
            </tr>
          </thead>
          <tbody>
            {cols.rows.map((c) => (
              <tr key={c.id}>
                <td>
                  <span class="text">{c.title}</span>
                  {c.description && <div class="small text muted">{c.description}</div>}
                </td>
                <td class="mono small">
                  {c.root}
                  {c.alias ? ` / ${c.alias}` : ''}
                </td>
                <td class="mono small">{c.id}</td>
                <td>
                  <Link href={sightingsHref({ collection: c.id, bucket: 'day' })}>
                    Sightings <span class="visually-hidden">of {c.title}</span>
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cols.next && (
        <button type="button" onClick={cols.more}>
          More collections
        </button>
      )}
      <h2>Peers</h2>
      {!admin && <p class="muted">Peers and their links are shown to admins.</p>}
      {admin && peers.error && (
        <p class="error" role="alert">
          {peers.error.message}
        </p>
      )}
      {admin && peers.rows && peers.rows.length === 0 && <p class="muted">No peer.</p>}
      {admin && peers.rows && peers.rows.length > 0 && (
        <table class="peers">
          <thead>
            <tr>
              <th scope="col">Peer</th>
              <th scope="col">Directions</th>
              <th scope="col">Last poll</th>
              <th scope="col">Lag</th>
              <th scope="col">Errors</th>
              <th scope="col">Objects</th>
            </tr>
          </thead>
          <tbody>
            {peers.rows.map((p) => (
              <tr key={p.name} class={p.failures ? 'failing' : ''}>
                <th scope="row">
                  <span class="text">{p.name}</span>
                  <div class="small">
                    <ExternalLink url={p.url} />
                  </div>
                  <div class="mono small muted">collection {p.collection}</div>
                </th>
                <td>
                  {[p.pull && 'pull', p.push && 'push'].filter(Boolean).join(' + ')}
                  <div class="small muted">{p.interval ? `every ${p.interval} s` : 'by hand only'}</div>
                </td>
                <td class="mono small">
                  {p.last_attempt || 'never'}
                  {p.next_attempt && <div class="muted">next {p.next_attempt}</div>}
                </td>
                <td data-testid="lag">{lag(p.lag_s)}</td>
                <td>
                  {p.failures ? <strong class="error">{p.failures} failed in a row</strong> : <span>none</span>}
                  {p.last_error && <div class="small text">{p.last_error}</div>}
                </td>
                <td class="small">
                  {p.pulled} pulled, {p.pushed} pushed
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {admin && peers.next && (
        <button type="button" onClick={peers.more}>
          More peers
        </button>
      )}
    </main>
  );
}
