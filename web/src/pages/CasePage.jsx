// One disclosure case: the embargo (its end as given, in the case's time zone, in UTC and in the
// viewer's local time, with a countdown), the vendor × product status table where a vendor that
// did not answer by the deadline reads "no response" (never "not affected"), and the
// conversation as one thread per topic (a product) with unread markers.
import { useEffect, useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { Link, objectHref } from '../router.jsx';
import { ExternalLink } from '../safe.jsx';
import { countdown, formatAtOffset, formatLocal, formatUtc, offsetOf, parseInstant } from '../time.js';

const VENDOR_PAGE = 100;
const MSG_PAGE = 500;

const STATUS_TEXT = {
  unknown: 'unknown',
  under_investigation: 'under investigation',
  affected: 'affected',
  not_affected: 'not affected',
  fixed: 'fixed',
  no_response: 'no response',
};

export function Status({ status }) {
  const s = STATUS_TEXT[status] ? status : 'unknown';
  return <span class={`status st-${s}`}>{s === 'no_response' ? '⚠ no response' : STATUS_TEXT[s]}</span>;
}


function useNow(periodMs) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}

export function Embargo({ embargo }) {
  const now = useNow(1000);
  if (!embargo || !embargo.end_utc) return <p data-testid="embargo">No embargo.</p>;
  const end = parseInstant(embargo.end_utc);
  const offset = offsetOf(embargo.end);
  const left = embargo.active ? countdown(end, now) : null;
  return (
    <section class="embargo" aria-label="Embargo" data-testid="embargo">
      <p>
        <strong>{embargo.lifted ? `Embargo lifted ${embargo.lifted}` : embargo.active ? 'Under embargo' : 'Embargo over'}</strong>
      </p>
      <dl>
        <dt>Ends (the case's time zone)</dt>
        <dd class="mono" data-testid="embargo-case">
          {offset === null ? embargo.end : formatAtOffset(end, offset)}
        </dd>
        <dt>In UTC</dt>
        <dd class="mono" data-testid="embargo-utc">
          {formatUtc(end)}
        </dd>
        <dt>Your local time</dt>
        <dd class="mono" data-testid="embargo-local">
          {formatLocal(end)}
        </dd>
        {embargo.active && (
          <>
            <dt>Time left</dt>
            <dd class="mono">
              <span data-testid="countdown" role="timer" aria-live="off">
                {left || 'ending now'}
              </span>
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

function Vendors({ id }) {
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const load = async (after, prev) => {
    try {
      const page = await api('GET', `/api/cases/${encodeURIComponent(id)}/vendors?${qs({ limit: VENDOR_PAGE, after })}`);
      setItems([...prev, ...page.items]);
      setNext(page.more ? page.next : null);
    } catch (e) {
      setError(e.message);
    }
  };
  useEffect(() => {
    setItems([]);
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
      <table class="vendors" data-testid="vendors">
        <thead>
          <tr>
            <th scope="col">Vendor</th>
            <th scope="col">Vendor status</th>
            <th scope="col">Product</th>
            <th scope="col">Product status</th>
            <th scope="col">Fixed in</th>
          </tr>
        </thead>
        <tbody>
          {items.flatMap((v) => {
            const prods = v.products.length ? v.products : [null];
            return prods.map((p, i) => (
              <tr key={`${v.vendor}|${i}`} class={v.status === 'no_response' ? 'no-response' : ''}>
                {i === 0 && (
                  <>
                    <th scope="row" rowSpan={prods.length} class="text">
                      {v.vendor}
                      {v.member && <div class="small muted mono">{v.member}</div>}
                    </th>
                    <td rowSpan={prods.length}>
                      <Status status={v.status} />
                      {v.statement && <div class="small text">{v.statement}</div>}
                      <div class="small muted">{v.responded ? `answered ${v.responded}` : 'has not answered'}</div>
                    </td>
                  </>
                )}
                <td class="text">{p ? p.name : <span class="muted">all products</span>}</td>
                <td>{p ? <Status status={p.status && p.status !== 'unknown' ? p.status : v.status} /> : <Status status={v.status} />}</td>
                <td class="mono small">{p && p.fixed ? p.fixed : ''}</td>
              </tr>
            ));
          })}
        </tbody>
      </table>
      {next && (
        <button type="button" onClick={() => load(next, items)}>
          More vendors
        </button>
      )}
    </>
  );
}

// The unread markers: the last message read in each thread, kept per account by the server
// (GET/POST /api/console/reads), so they follow the analyst from browser to browser.
function Threads({ id }) {
  const [msgs, setMsgs] = useState(null);
  const [seen, setSeen] = useState(() => new Map());
  const [open, setOpen] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setMsgs(null);
    setOpen(null);
    const enc = encodeURIComponent(id);
    Promise.all([api('GET', `/api/cases/${enc}/messages?limit=${MSG_PAGE}`), api('GET', `/api/console/reads?${qs({ case: id })}`)]).then(
      ([p, r]) => {
        setSeen(new Map(Object.entries(r.topics)));
        setMsgs(p.items);
      },
      (e) => setError(e.status === 404 ? 'The conversation is for participants.' : e.message),
    );
  }, [id]);
  if (error) return <p class="muted">{error}</p>;
  if (!msgs) return <p class="muted">Loading…</p>;
  const topics = [...new Set(msgs.map((m) => m.topic))];
  const unread = (t) => msgs.filter((m) => m.topic === t && m.seq > (seen.get(t) || 0)).length;
  const show = (t) => {
    const last = Math.max(0, ...msgs.filter((m) => m.topic === t).map((m) => m.seq));
    setOpen(t);
    // what was unread stays marked while the thread is open; it counts as read from now on
    if (last > (seen.get(t) || 0))
      api('POST', '/api/console/reads', { case: id, topic: t, seen: last }).then(
        (r) => setSeen(new Map(Object.entries(r.topics))),
        (e) => setError(e.message),
      );
  };
  if (!topics.length) return <p class="muted">No message yet.</p>;
  return (
    <div class="threads">
      <ul class="topics" aria-label="Threads">
        {topics.map((t) => {
          const n = unread(t);
          return (
            <li key={t}>
              <button type="button" aria-pressed={open === t} onClick={() => show(t)}>
                <span class="text">{t}</span> ({msgs.filter((m) => m.topic === t).length})
                {n > 0 && <span class="badge unread">{n} unread</span>}
              </button>
            </li>
          );
        })}
      </ul>
      {open !== null && (
        <ol class="messages" aria-label={`Thread ${open}`}>
          {msgs
            .filter((m) => m.topic === open)
            .map((m) => (
              <li key={m.seq}>
                <div class="small">
                  <strong>{m.author}</strong> <span class="mono muted">{m.ts}</span>
                  {m.private_vendor && <span class="badge">private to {m.private_vendor}</span>}
                </div>
                <div class="text">{m.body}</div>
              </li>
            ))}
        </ol>
      )}
    </div>
  );
}

export function CasePage({ id }) {
  const [c, setCase] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setCase(null);
    setError(null);
    api('GET', `/api/cases/${encodeURIComponent(id)}`).then(setCase, (e) => setError(e.message));
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
  if (!c || c.id !== id) return <p class="muted">Loading…</p>;
  return (
    <main>
      <h1>
        <span class="text">{c.title}</span> <span class="mono small">{c.id}</span>
      </h1>
      <p class="small">
        Your role: {c.your_role}
        {c.published ? ` · published ${c.published} (revision ${c.revision})` : ' · not published'}
        {c.deadline ? ` · vendors' deadline ${c.deadline}` : ''}
        {c.cve ? ` · ${c.cve}` : ''}
      </p>
      {c.summary && <p class="text">{c.summary}</p>}
      <h2>Embargo</h2>
      <Embargo embargo={c.embargo} />
      <h2>Vendors and products</h2>
      <Vendors id={id} />
      {c.indicators && c.indicators.length > 0 && (
        <>
          <h2>Linked indicators</h2>
          <ul class="refs">
            {c.indicators.map((i) => (
              <li key={i}>
                <Link href={objectHref(i)} class="mono">
                  {i}
                </Link>
              </li>
            ))}
          </ul>
        </>
      )}
      {c.references && c.references.length > 0 && (
        <>
          <h2>References</h2>
          <ul class="refs">
            {c.references.map((r, i) => (
              <li key={i}>
                <ExternalLink url={r} />
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>Conversation</h2>
      <Threads id={id} />
    </main>
  );
}
