// A client that uses the outbound proxy as an HTTP proxy (HTTP_PROXY, `curl -x`) sends absolute-form
// request targets (`GET http://web.emojivoto.svc.cluster.local:80/vote?x=1 HTTP/1.1`). Routes match
// on the path and the app receives origin form, as from any HTTP proxy. Real curl, a real outbound
// proxy over a scriptable control plane.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { originForm } from '../../src/outbound/logical/exchange.js';
import { meshTestbed } from './support/mesh-outbound.js';

const run = promisify(execFile);
const WEB = 'web.emojivoto.svc.cluster.local:80';
const t = meshTestbed();

describe('absolute-form requests through the outbound proxy', () => {
  it('routes curl -x requests by path and hands the app origin form', async () => {
    const seen: { url: string; host: string }[] = [];
    const web = await t.server('127.0.1.61', (req, res) => {
      seen.push({ url: req.url ?? '', host: req.headers.host ?? '' });
      res.end('ok');
    });
    t.cp.setEndpoints(WEB, [{ host: web.host, port: web.port }]);
    const proxy = await t.start();
    const res = await run(
      'curl',
      [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--max-time',
        '20',
        '-x',
        `http://127.0.0.1:${proxy.port}`,
        `http://${WEB}/vote?choice=%F0%9F%8D%A9`,
      ],
      { timeout: 30_000 },
    );
    expect(res.stdout).toBe('200');
    // Host stays what curl wrote (it leaves out the default port); discovery used the target's.
    expect(seen.at(-1)).toEqual({
      url: '/vote?choice=%F0%9F%8D%A9',
      host: 'web.emojivoto.svc.cluster.local',
    });
  });

  it('reads the path and authority of an absolute target, and leaves anything else alone', () => {
    expect(originForm('http://web.ns.svc.cluster.local:80/a/b?c=d', 'other:80')).toEqual({
      path: '/a/b?c=d',
      authority: 'web.ns.svc.cluster.local:80',
    });
    expect(originForm('/a?b', 'web:80')).toEqual({ path: '/a?b', authority: 'web:80' });
    expect(originForm('*', 'web:80')).toEqual({ path: '*', authority: 'web:80' });
    expect(originForm('HTTP://Web:8080', undefined)).toEqual({ path: '/', authority: 'Web:8080' });
    expect(originForm('http://web:8080?q', undefined)).toEqual({ path: '/?q', authority: 'web:8080' });
    expect(originForm('http:///x', 'web:80')).toEqual({ path: '/x', authority: 'web:80' });
  });
});
