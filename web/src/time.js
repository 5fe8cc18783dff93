// Times of the case pages.  The server gives instants as RFC 3339 text; an embargo end keeps the
// offset it was given with (the case's time zone), shown beside UTC and the viewer's local time.
// Every "now" comes from Date.now(), so a test's fixed clock governs the countdown.

export const parseInstant = (s) => {
  if (typeof s !== 'string') return null;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : null;
};

// The offset of an RFC 3339 text in minutes east of UTC ("Z" is 0), or null.
export function offsetOf(text) {
  const m = typeof text === 'string' && /(?:([+-])(\d\d):?(\d\d)|[Zz])$/.exec(text);
  if (!m) return null;
  if (!m[1]) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const pad = (n) => String(n).padStart(2, '0');

// ms as "YYYY-MM-DD HH:MM:SS" at `offset` minutes east of UTC, with the offset written after it.
export function formatAtOffset(ms, offset) {
  const d = new Date(ms + offset * 60000);
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const zone = offset === 0 ? 'UTC' : `UTC${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${zone}`;
}

export const formatUtc = (ms) => formatAtOffset(ms, 0);

// ms in the viewer's own time zone (the browser's), with the zone's name.
export function formatLocal(ms) {
  const d = new Date(ms);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

// What is left until end, as "3 d 04 h 05 min 06 s"; null when it has passed.
export function countdown(endMs, nowMs) {
  let s = Math.floor((endMs - nowMs) / 1000);
  if (s <= 0) return null;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d} d ${pad(h)} h ${pad(m)} min ${pad(s)} s`;
}
