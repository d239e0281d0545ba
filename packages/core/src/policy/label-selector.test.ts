import { describe, expect, it } from 'vitest';
import { labelSelectorMatches, parseLabelSelector } from './label-selector.js';

describe('label-selector', () => {
  it('an empty selector selects everything', () => {
    expect(labelSelectorMatches(parseLabelSelector({}, 'x'), {})).toBe(true);
    expect(labelSelectorMatches(parseLabelSelector(undefined, 'x'), { a: 'b' })).toBe(true);
  });

  it('matchLabels and every operator', () => {
    const s = parseLabelSelector(
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['front', 'edge'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      'spec.podSelector',
    );
    expect(labelSelectorMatches(s, { app: 'web', tier: 'edge', team: 'a' })).toBe(true);
    expect(labelSelectorMatches(s, { app: 'web', tier: 'edge', team: 'a', env: 'dev' })).toBe(false);
    expect(labelSelectorMatches(s, { app: 'web', tier: 'back', team: 'a' })).toBe(false);
    expect(labelSelectorMatches(s, { app: 'web', tier: 'edge' })).toBe(false);
    expect(labelSelectorMatches(s, { app: 'web', tier: 'edge', team: 'a', legacy: '' })).toBe(false);
    expect(labelSelectorMatches(s, { app: 'api', tier: 'edge', team: 'a' })).toBe(false);
  });

  it('names the bad field', () => {
    expect(() =>
      parseLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] }, 'spec.podSelector'),
    ).toThrow(expect.objectContaining({ where: 'spec.podSelector.matchExpressions[0].operator' }));
    expect(() => parseLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] }, 's')).toThrow(
      /at least one value/,
    );
  });
});
