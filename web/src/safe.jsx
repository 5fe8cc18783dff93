// Everything from the store is attacker-controlled text.  It is only ever rendered as text nodes
// (Preact escapes them; nothing here sets innerHTML), and a URL becomes a link only when it is
// http or https.
export function safeUrl(u) {
  if (typeof u !== 'string') return null;
  try {
    const url = new URL(u);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function ExternalLink({ url }) {
  const href = safeUrl(url);
  if (!href) return <span class="mono">{String(url)}</span>;
  return (
    <a href={href} rel="noopener noreferrer nofollow" target="_blank">
      {url}
    </a>
  );
}

const TLP_NAMES = { clear: 'CLEAR', green: 'GREEN', amber: 'AMBER', 'amber+strict': 'AMBER+STRICT', red: 'RED' };

export function Tlp({ level }) {
  const name = TLP_NAMES[level] || 'UNKNOWN';
  return <span class={`tlp tlp-${name.toLowerCase().replace('+', '-')}`}>TLP:{name}</span>;
}

// Any JSON value as text: strings as they are, the rest as compact JSON.
export const asText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
