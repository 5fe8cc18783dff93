// A small history router: the app's pages live under /ui/ (the server answers index.html for any
// of them).  Links are ordinary <a href> elements, so the keyboard and middle-click work.
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui';
const listeners = new Set();

export function navigate(to, replace = false) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  listeners.forEach((f) => f());
  window.scrollTo(0, 0);
}

export function useLocation() {
  const [loc, setLoc] = useState(() => ({ path: location.pathname, search: location.search }));
  useEffect(() => {
    const update = () => setLoc({ path: location.pathname, search: location.search });
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

// In-app link: plain clicks are routed here, modified clicks go to the browser.
export function Link({ href, children, ...rest }) {
  const onClick = (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

export const objectHref = (id) => `${BASE}/object/${encodeURIComponent(id)}`;
export const searchHref = (value) => `${BASE}/search?${new URLSearchParams({ q: value })}`;
