// Members and the roster: the coalition's current roster version with each member's keys (key
// id = the fingerprint, purpose, status, since), and the open proposals with their votes.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Link, objectHref } from '../router.jsx';

function MemberRow({ m, self }) {
  return (
    <tr>
      <th scope="row">
        <span class="text">{m.name || '(no name)'}</span>
        {m.id === self && <span class="badge">this node</span>}
        <div>
          <Link href={objectHref(m.id)} class="mono small">
            {m.id}
          </Link>
        </div>
      </th>
      <td>
        {m.keys.length === 0 ? (
          <span class="muted">no key stored</span>
        ) : (
          <ul class="keys">
            {m.keys.map((k) => (
              <li key={k.keyid} class={`key key-${k.status}`}>
                <span class="mono">{k.keyid}</span> {k.purpose}, {k.status}
                <span class="small muted"> since {k.since}</span>
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

function MemberTable({ members, self }) {
  return (
    <table class="members">
      <thead>
        <tr>
          <th scope="col">Member</th>
          <th scope="col">Keys (key id: SHA-256 fingerprint of the public key)</th>
        </tr>
      </thead>
      <tbody>
        {members.map((m) => (
          <MemberRow m={m} self={self} key={m.id} />
        ))}
      </tbody>
    </table>
  );
}

export function Members() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api('GET', '/api/console/roster').then(setData, (e) => setError(e.message));
  }, []);
  if (error)
    return (
      <main>
        <h1>Members and roster</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </main>
    );
  if (!data) return <p class="muted">Loading…</p>;
  const current = data.versions.find((v) => v.state === 'current');
  const proposals = data.versions.filter((v) => v.state === 'proposed');
  return (
    <main>
      <h1>Members and roster</h1>
      {data.halted && (
        <p class="error" role="alert">
          Governance is stopped: <span class="text">{data.reason}</span>
        </p>
      )}
      {current ? (
        <>
          <h2>
            Roster version {current.version} ({current.members.length} members, {current.threshold} votes to change it)
          </h2>
          <p class="mono small">{current.hash}</p>
          <MemberTable members={current.members} self={data.self} />
        </>
      ) : (
        <>
          <p>No roster is kept on this node.</p>
          {data.self_member && (
            <>
              <h2>This node's organisation</h2>
              <MemberTable members={[data.self_member]} self={data.self} />
            </>
          )}
        </>
      )}
      <h2>Pending votes</h2>
      {proposals.length === 0 ? (
        <p class="muted">No open proposal.</p>
      ) : (
        proposals.map((p) => (
          <section key={p.hash} class="proposal" aria-label={`Proposal for version ${p.version}`}>
            <h3>
              Version {p.version}: {p.votes} of {p.needed} votes
              {p.new_members ? `, new members voted ${p.new_voted} of ${p.new_members}` : ''}
            </h3>
            <p class="small">
              <span class="mono">{p.hash}</span> · voting ends {p.expires}
            </p>
            <MemberTable members={p.members} self={data.self} />
          </section>
        ))
      )}
    </main>
  );
}
