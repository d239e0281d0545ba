// Places the edges' workloads in columns for the topology graph: callers left of the workloads
// they call (a node's column is the longest chain of callers before it; cycles are cut by
// bounding the passes), then each column's nodes top to bottom by name.

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
}

export interface PlacedNode {
  readonly id: string;
  readonly column: number;
  readonly row: number;
}

export interface Layout {
  readonly nodes: readonly PlacedNode[];
  readonly columns: number;
  readonly rows: number;
}

export function layoutGraph(ids: readonly string[], edges: readonly GraphEdge[]): Layout {
  const all = [...new Set([...ids, ...edges.flatMap((e) => [e.from, e.to])])].sort();
  const column = new Map(all.map((id) => [id, 0]));
  const links = edges.filter((e) => e.from !== e.to);
  // Bellman-Ford-style relaxation: at most |nodes| passes, so a cycle cannot loop forever.
  for (let pass = 0; pass < all.length; pass++) {
    let changed = false;
    for (const e of links) {
      const next = column.get(e.from)! + 1;
      if (next > column.get(e.to)! && next < all.length) {
        column.set(e.to, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const byColumn = new Map<number, string[]>();
  for (const id of all) byColumn.set(column.get(id)!, [...(byColumn.get(column.get(id)!) ?? []), id]);
  // Close the gaps a cycle may leave (columns with nobody in them).
  const used = [...byColumn.keys()].sort((a, b) => a - b);
  const nodes = used.flatMap((c, ci) => byColumn.get(c)!.map((id, row) => ({ id, column: ci, row })));
  return {
    nodes,
    columns: used.length,
    rows: Math.max(0, ...[...byColumn.values()].map((v) => v.length)),
  };
}
