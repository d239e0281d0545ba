import { describe, expect, it } from 'vitest';
import { createProgram } from '../program.js';

async function run(args: string[]): Promise<{ out: string; err: string; failed: boolean }> {
  let out = '';
  let err = '';
  const program = createProgram({ out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  try {
    await program.parseAsync(['node', 'tsmesh', ...args]);
    return { out, err, failed: false };
  } catch {
    return { out, err, failed: true };
  }
}

describe('tsmesh viz dashboard flags', () => {
  it('is listed under viz with its defaults', async () => {
    const out = (await run(['viz', 'dashboard', '--help'])).out.replace(/\s+/g, ' ');
    expect(out).toContain('--port <port>');
    expect(out).toContain('(default: "50750")');
    expect(out).toContain('(default: "127.0.0.1")');
  });

  it.each([
    [['--port', 'http'], /bad port "http".*0 to 65535/s],
    [['--port', '70000'], /bad port "70000"/],
    [['--interval', 'soon'], /bad duration "soon"/],
    [['--time-window', '10ms'], /bad duration "10ms".*at least 1s/s],
    [['--show', 'everything'], /unknown --show "everything".*use url/s],
    [['--prometheus-url', 'nope'], /bad Prometheus URL "nope"/],
  ])('refuses %j with a hint, before listening', async (flags, message) => {
    const { err, failed, out } = await run(['viz', 'dashboard', '--port', '0', ...flags]);
    expect(failed || err !== '').toBe(true);
    expect(err).toMatch(message);
    expect(out).not.toContain('available at');
  });
});
