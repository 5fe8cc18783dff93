// The relationship graph around one object: its relationships first, then any node's on demand
// (click it, or its button in the list below the graph), never more than MAX_NODES nodes.
// cytoscape.js is loaded only on this page.  The list beside the canvas is the same graph for the
// keyboard and for screen readers.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { BASE, Link, objectHref } from '../router.jsx';

export const MAX_NODES = 300;
const REL_PAGE = 100;
const STYLESHEET_ID = '__________cytoscape_stylesheet';

export const graphHref = (id) => `${BASE}/graph/${encodeURIComponent(id)}`;

const typeOf = (id) => id.split('--')[0];
const shortOf = (id) => `${typeOf(id)} ${id.split('--')[1]?.slice(0, 8) || ''}`;
// A node's label: its type and name (or an SCO's value, a pattern), else its type and short id.
const MAX_LABEL = 80;
export const labelOf = (id, name) => {
  if (typeof name !== 'string' || !name) return shortOf(id);
  const n = name.length > MAX_LABEL ? `${name.slice(0, MAX_LABEL - 1)}…` : name;
  return `${typeOf(id)}: ${n}`;
};

// One page of an object's relationships with rows (the server may stop early when its scan
// budget runs out: ask again from its cursor).
async function relationsOf(id, after) {
  let page = await api('GET', `/api/objects/${encodeURIComponent(id)}/relationships?${qs({ limit: REL_PAGE, after })}`);
  let rows = page.rows;
  while (page.next && rows.length === 0) {
    page = await api('GET', `/api/objects/${encodeURIComponent(id)}/relationships?${qs({ limit: REL_PAGE, after: page.next })}`);
    rows = page.rows;
  }
  return { rows, next: page.next };
}

export function Graph({ id }) {
  const el = useRef(null);
  const cy = useRef(null);
  const [nodes, setNodes] = useState(() => new Map([[id, { id, label: shortOf(id), expanded: false, next: undefined }]]));
  const [edges, setEdges] = useState(() => new Map());
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const [capped, setCapped] = useState(false);
  const [name, setName] = useState(null);
  const state = useRef({ nodes, edges });
  state.current = { nodes, edges };

  const expand = async (nid) => {
    const { nodes: ns, edges: es } = state.current;
    const node = ns.get(nid);
    if (!node || (node.expanded && !node.next)) return;
    setBusy(nid);
    try {
      const { rows, next } = await relationsOf(nid, node.next);
      const n2 = new Map(state.current.nodes);
      const e2 = new Map(state.current.edges);
      let hitCap = false;
      for (const r of rows) {
        for (const [end, nm] of [
          [r.source_ref, r.source_name],
          [r.target_ref, r.target_name],
        ]) {
          if (!n2.has(end)) {
            if (n2.size >= MAX_NODES) {
              hitCap = true;
              continue;
            }
            n2.set(end, { id: end, label: labelOf(end, nm), expanded: false, next: undefined });
          } else if (nm && n2.get(end).label === shortOf(end)) {
            n2.set(end, { ...n2.get(end), label: labelOf(end, nm) });
          }
        }
        if (n2.has(r.source_ref) && n2.has(r.target_ref)) e2.set(r.id, r);
      }
      n2.set(nid, { ...n2.get(nid), expanded: true, next: next || null });
      setNodes(n2);
      setEdges(e2);
      if (hitCap) setCapped(true);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(null);
    }
  };

  useEffect(() => {
    const n = new Map([[id, { id, label: shortOf(id), expanded: false, next: undefined }]]);
    state.current = { nodes: n, edges: new Map() };
    setNodes(n);
    setEdges(new Map());
    setCapped(false);
    setError(null);
    api('GET', `/api/objects/${encodeURIComponent(id)}?limit=1`).then(
      (d) => {
        const o = d.versions[d.versions.length - 1].object;
        setName(typeof o.name === 'string' ? o.name : typeof o.value === 'string' ? o.value : null);
        expand(id);
      },
      (e) => setError(e.message),
    );
  }, [id]);

  // the canvas follows the state; cytoscape comes in on first use
  useEffect(() => {
    let gone = false;
    (async () => {
      if (!cy.current) {
        if (!document.getElementById(STYLESHEET_ID)) {
          // cytoscape would add an inline <style> (refused by the CSP) unless this id exists;
          // the rule it wanted is in style.css
          const m = document.createElement('meta');
          m.id = STYLESHEET_ID;
          document.head.appendChild(m);
        }
        const { default: cytoscape } = await import('cytoscape');
        if (gone || !el.current) return;
        cy.current = cytoscape({
          container: el.current,
          style: [
            { selector: 'node', style: { label: 'data(label)', 'font-size': 9, 'background-color': '#1d4e89', color: '#1b1f24', width: 14, height: 14 } },
            { selector: 'node.root', style: { 'background-color': '#a40000', width: 20, height: 20 } },
            { selector: 'node.open', style: { 'border-width': 2, 'border-color': '#f5a623' } },
            { selector: 'edge', style: { width: 1, 'line-color': '#999', 'target-arrow-shape': 'triangle', 'target-arrow-color': '#999', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 7 } },
          ],
          wheelSensitivity: 0.3,
        });
        cy.current.on('tap', 'node', (e) => expand(e.target.id()));
      }
      const g = cy.current;
      const { nodes: ns, edges: es } = state.current;
      g.batch(() => {
        for (const n of ns.values()) {
          const label = n.id === id && name ? labelOf(n.id, name) : n.label;
          const ele = g.getElementById(n.id);
          if (ele.empty()) g.add({ group: 'nodes', data: { id: n.id, label } });
          else ele.data('label', label);
          g.getElementById(n.id).toggleClass('root', n.id === id).toggleClass('open', !!n.expanded);
        }
        for (const r of es.values())
          if (g.getElementById(r.id).empty())
            g.add({ group: 'edges', data: { id: r.id, source: r.source_ref, target: r.target_ref, label: String(r.relationship_type || '') } });
      });
      // the force-directed layout is quadratic: large graphs get rings around the first node
      const layout =
        g.nodes().length <= 60
          ? { name: 'cose', animate: false, randomize: false, nodeDimensionsIncludeLabels: true }
          : { name: 'concentric', animate: false, concentric: (n) => (n.id() === id ? 2 : 1), levelWidth: () => 1, minNodeSpacing: 4 };
      g.layout(layout).run();
    })().catch((e) => setError(e.message));
    return () => {
      gone = true;
    };
  }, [nodes, edges, name]);

  useEffect(
    () => () => {
      if (cy.current) cy.current.destroy();
      cy.current = null;
    },
    [],
  );

  return (
    <main>
      <h1>
        Graph around <span class="text">{name || id}</span>
      </h1>
      <p class="small">
        <Link href={objectHref(id)}>The object's page</Link> · {nodes.size} node{nodes.size === 1 ? '' : 's'}, {edges.size} relationship
        {edges.size === 1 ? '' : 's'} (at most {MAX_NODES} nodes; select a node to expand it)
      </p>
      {capped && (
        <p class="error" role="status">
          The graph has reached {MAX_NODES} nodes: further relationships are left out.
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div ref={el} class="graph" role="img" aria-label={`Relationship graph of ${nodes.size} nodes`} data-testid="graph" />
      <h2>Nodes</h2>
      <ul class="nodes" aria-label="Nodes">
        {[...nodes.values()].map((n) => (
          <li key={n.id}>
            <Link href={objectHref(n.id)} class="small">
              <span class="text">{n.id === id && name ? labelOf(n.id, name) : n.label}</span>
            </Link>{' '}
            {(!n.expanded || n.next) && (
              <button type="button" disabled={busy !== null || (nodes.size >= MAX_NODES && !n.expanded)} onClick={() => expand(n.id)}>
                {n.expanded ? 'More' : 'Expand'} <span class="visually-hidden">{n.id}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
    </main>
  );
}
