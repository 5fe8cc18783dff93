import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, login, logout } from './api.js';
import { BASE, Link, navigate, useLocation } from './router.jsx';
import { Search } from './pages/Search.jsx';
import { ObjectPage } from './pages/ObjectPage.jsx';
import { Later } from './pages/Later.jsx';
import { Indicators } from './pages/Indicators.jsx';
import { Sightings } from './pages/Sightings.jsx';
import { Graph } from './pages/Graph.jsx';
import { Cases } from './pages/Cases.jsx';
import { CasePage } from './pages/CasePage.jsx';
import { Members } from './pages/Members.jsx';
import { Feeds } from './pages/Feeds.jsx';
import './style.css';

const PAGES = [
  ['search', 'Search'],
  ['indicators', 'Indicators'],
  ['sightings', 'Sightings'],
  ['cases', 'Cases'],
  ['members', 'Members'],
  ['feeds', 'Feeds'],
];

function Login({ onLogin }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(String(f.get('username')), String(f.get('password'))));
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>accord</h1>
      <form onSubmit={submit} aria-label="Log in">
        <label>
          Account <input name="username" autocomplete="username" required autofocus />
        </label>
        <label>
          Password <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit" disabled={busy}>
          Log in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

function route(path, search, session) {
  const rest = path.startsWith(BASE) ? path.slice(BASE.length).replace(/^\/+/, '') : '';
  const [page, ...tail] = rest.split('/');
  if (page === 'object' && tail.length) return <ObjectPage id={decodeURIComponent(tail.join('/'))} />;
  if (page === '' || page === 'search') return <Search query={new URLSearchParams(search).get('q') || ''} />;
  if (page === 'indicators') return <Indicators admin={!!session.admin} />;
  if (page === 'sightings') return <Sightings search={search} />;
  if (page === 'graph' && tail.length) return <Graph id={decodeURIComponent(tail.join('/'))} />;
  if (page === 'cases' && tail.length) return <CasePage id={decodeURIComponent(tail.join('/'))} />;
  if (page === 'cases') return <Cases />;
  if (page === 'members') return <Members />;
  if (page === 'feeds') return <Feeds admin={!!session.admin} />;
  const known = PAGES.find(([p]) => p === page);
  return <Later title={known ? known[1] : 'Not found'} known={!!known} />;
}

function App() {
  const [session, setSession] = useState(undefined);
  const [error, setError] = useState(null);
  const { path, search } = useLocation();
  useEffect(() => {
    currentSession().then(setSession, (e) => setError(e.message));
  }, []);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (session === undefined) return <p class="muted">Loading…</p>;
  if (!session) return <Login onLogin={setSession} />;
  const current = path.slice(BASE.length).replace(/^\/+/, '').split('/')[0] || 'search';
  const doLogout = async () => {
    await logout().catch(() => {});
    setSession(null);
    navigate(`${BASE}/`, true);
  };
  return (
    <>
      <header>
        <nav aria-label="Pages">
          <span class="brand">accord</span>
          {PAGES.map(([p, label]) => (
            <Link href={`${BASE}/${p}`} aria-current={current === p ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <span class="who">
          {session.account}
          <button type="button" onClick={doLogout}>
            Log out
          </button>
        </span>
      </header>
      {route(path, search, session)}
    </>
  );
}

render(<App />, document.getElementById('app'));
