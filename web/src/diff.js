// A property-level diff of two versions of a STIX object: one entry per top-level property that
// was added, removed or changed (values compared as JSON text).
export function diffObjects(older, newer) {
  const out = [];
  const keys = new Set([...Object.keys(older || {}), ...Object.keys(newer || {})]);
  for (const k of [...keys].sort()) {
    const a = older && Object.prototype.hasOwnProperty.call(older, k) ? JSON.stringify(older[k]) : undefined;
    const b = newer && Object.prototype.hasOwnProperty.call(newer, k) ? JSON.stringify(newer[k]) : undefined;
    if (a === b) continue;
    out.push({ key: k, kind: a === undefined ? 'added' : b === undefined ? 'removed' : 'changed', before: a, after: b });
  }
  return out;
}
