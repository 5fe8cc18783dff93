// Cases: the disclosure cases the caller takes part in, and published ones (the server decides:
// an embargoed case of others is never listed, and its page answers "not found").
import { useEffect, useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { BASE, Link } from '../router.jsx';

export const caseHref = (id) => `${BASE}/cases/${encodeURIComponent(id)}`;

export function Cases() {
  const [items, setItems] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const load = async (after, prev) => {
    try {
      const page = await api('GET', `/api/cases?${qs({ limit: 100, after })}`);
      setItems([...prev, ...page.items]);
      setNext(page.more ? page.next : null);
    } catch (e) {
      setError(e.message);
    }
  };
  useEffect(() => {
    load(undefined, []);
  }, []);
  return (
    <main>
      <h1>Cases</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p class="muted">Loading…</p>}
      {items && items.length === 0 && <p class="muted">No case that you take part in, and none published.</p>}
      {items && items.length > 0 && (
        <table class="cases">
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Title</th>
              <th scope="col">State</th>
              <th scope="col">Your role</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link href={caseHref(c.id)} class="mono">
                    {c.id}
                  </Link>
                </td>
                <td class="text">{c.title}</td>
                <td>{c.embargoed ? <span class="badge embargoed">embargoed</span> : c.published ? `published ${c.published}` : 'open'}</td>
                <td>{c.role || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" onClick={() => load(next, items)}>
          More cases
        </button>
      )}
    </main>
  );
}
