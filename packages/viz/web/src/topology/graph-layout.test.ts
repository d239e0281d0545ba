import { describe, expect, it } from 'vitest';
import { layoutGraph } from './graph-layout.js';

describe('topology layout', () => {
  it('puts callers left of the workloads they call', () => {
    const layout = layoutGraph(
      [],
      [
        { from: 'vote-bot', to: 'web' },
        { from: 'web', to: 'emoji' },
        { from: 'web', to: 'voting' },
      ],
    );
    const col = Object.fromEntries(layout.nodes.map((n) => [n.id, n.column]));
    expect(col).toEqual({ 'vote-bot': 0, web: 1, emoji: 2, voting: 2 });
    expect(layout).toMatchObject({ columns: 3, rows: 2 });
  });

  it('terminates on cycles and keeps lonely nodes', () => {
    const layout = layoutGraph(
      ['idle'],
      [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
        { from: 'a', to: 'a' },
      ],
    );
    expect(layout.nodes.map((n) => n.id).sort()).toEqual(['a', 'b', 'idle']);
    expect(layout.columns).toBeGreaterThanOrEqual(2);
    expect(new Set(layout.nodes.map((n) => `${n.column}/${n.row}`)).size).toBe(3);
  });
});
