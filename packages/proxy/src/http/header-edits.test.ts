import { describe, expect, it } from 'vitest';
import { compileHeaderEdits, headerEditProblem } from './header-edits.js';

describe('headerEditProblem', () => {
  it('accepts token names and values of visible characters, spaces, tabs and obs-text', () => {
    expect(headerEditProblem('x-env', 'prod')).toBeUndefined();
    expect(headerEditProblem("x!#$%&'*+-.^_`|~09az", 'a\tb c')).toBeUndefined();
    expect(headerEditProblem('x-latin1', Buffer.from('café').toString('latin1'))).toBeUndefined();
    expect(headerEditProblem('x-empty', '')).toBeUndefined();
  });

  it('refuses what would break a head or the framing', () => {
    expect(headerEditProblem('', 'v')).toMatch(/^"" is not a header name/);
    expect(headerEditProblem('x env', 'v')).toMatch(/^"x env" is not a header name/);
    expect(headerEditProblem('x:y', 'v')).toMatch(/is not a header name/);
    expect(headerEditProblem('x-a', 'a\r\nx-b: 1')).toBe(
      'the value of x-a holds control character 0x0d at offset 1',
    );
    expect(headerEditProblem('x-a', 'a\nb')).toMatch(/0x0a at offset 1/);
    expect(headerEditProblem('x-a', '\0')).toMatch(/0x00 at offset 0/);
    expect(headerEditProblem('x-a', 'a\x7f')).toMatch(/0x7f at offset 1/);
    for (const name of ['content-length', 'transfer-encoding', 'connection', 'host', 'upgrade', 'te'])
      expect(headerEditProblem(name, '1')).toBe(
        `${name} is written by the proxy for each hop; a route cannot add or set it`,
      );
  });
});

describe('compileHeaderEdits', () => {
  it('lower-cases names and keeps a value as its bytes (one latin1 character per byte)', () => {
    const utf8 = Buffer.from('café ✓');
    const edits = compileHeaderEdits(
      {
        add: { headers: [{ name: 'X-Added', value: Buffer.from('a') }] },
        set: { headers: [{ name: 'x-utf8', value: utf8 }] },
        remove: ['X-Secret', 'content-length'],
      },
      'requestHeaderModifier',
    );
    expect(edits.add).toEqual([['x-added', 'a']]);
    expect(Buffer.from(edits.set[0]?.[1] ?? '', 'latin1').equals(utf8)).toBe(true);
    // Removing a framing header changes nothing the proxy writes: allowed.
    expect(edits.remove).toEqual(['x-secret', 'content-length']);
  });

  it('names the edit that cannot be carried', () => {
    expect(() =>
      compileHeaderEdits(
        {
          add: { headers: [{ name: 'x-ok', value: Buffer.from('1') }] },
          set: {
            headers: [
              { name: 'x-ok', value: null },
              { name: 'Transfer-Encoding', value: Buffer.from('gzip') },
            ],
          },
        },
        'responseHeaderModifier',
      ),
    ).toThrow(
      'responseHeaderModifier.set[1]: transfer-encoding is written by the proxy for each hop; a route cannot add or set it',
    );
  });
});
