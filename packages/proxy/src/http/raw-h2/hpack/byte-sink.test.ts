import { describe, expect, it } from 'vitest';
import { ByteSink, latin1Slice } from './byte-sink.js';

describe('ByteSink', () => {
  it('grows by doubling and keeps what was written', () => {
    const sink = new ByteSink(16);
    for (let i = 0; i < 100; i++) sink.byte(i);
    sink.bytes(Buffer.from([1, 2, 3]));
    sink.latin1('héllo');
    sink.latin1('x'.repeat(40) + '\u00ff');
    expect(sink.buf.length).toBeGreaterThanOrEqual(sink.length);
    const out = sink.take();
    expect(out.length).toBe(100 + 3 + 5 + 41);
    expect([...out.subarray(0, 100)]).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(out.toString('latin1', 103)).toBe('héllo' + 'x'.repeat(40) + '\u00ff');
    expect(sink.length).toBe(0);
  });

  it('writes the low byte of chars above U+00FF, short and long strings alike', () => {
    const sink = new ByteSink();
    sink.latin1('\u0141');
    sink.latin1('\u0141'.repeat(30));
    expect([...sink.view()]).toEqual(Array(31).fill(0x41));
  });

  it('take() returns a copy that later writes do not touch', () => {
    const sink = new ByteSink(16);
    sink.latin1('abc');
    const first = sink.take();
    sink.latin1('xyz');
    expect(first.toString()).toBe('abc');
    expect(sink.view().toString()).toBe('xyz');
  });

  it('skip() reserves bytes to fill in later', () => {
    const sink = new ByteSink(16);
    const at = sink.skip(3);
    sink.latin1('payload-longer-than-sixteen');
    sink.buf.writeUIntBE(sink.length - 3, at, 3);
    const out = sink.take();
    expect(out.readUIntBE(0, 3)).toBe(27);
    expect(out.toString('latin1', 3)).toBe('payload-longer-than-sixteen');
  });

  it('latin1Slice reads bytes as chars', () => {
    const buf = Buffer.from([0x61, 0xe9, 0xff, 0x00, 0x7a]);
    expect(latin1Slice(buf, 0, 5)).toBe('a\u00e9\u00ff\u0000z');
    expect(latin1Slice(buf, 1, 3)).toBe('\u00e9\u00ff');
    expect(latin1Slice(buf, 2, 2)).toBe('');
  });
});
