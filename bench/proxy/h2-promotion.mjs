// How much node:http2 alone moves into V8's old space per stream (no proxy code): an HTTP/2
// client and server in this process, 1,000 GET streams a second in bursts of 10 (as h2load's
// h2-1k scenario sends them), for 6 s. Prints the old-space growth per stream and the number of
// mark-compacts; run with the proxy's node flags to compare with p99-analyze.mjs's figures.
// `--fix` installs the proxy's AsyncResource bind first (packages/proxy/src/runtime/
// async-resource-bind.ts; needs the built package), as tsmesh-proxy does at start:
//   node --max-semi-space-size=2 --heap-growing-percent=25 bench/proxy/h2-promotion.mjs [--fix]
import { connect, createServer } from 'node:http2';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const fix = process.argv.includes('--fix');
if (fix) {
  const dist = new URL('../../packages/proxy/dist/index.js', import.meta.url).href;
  (await import(dist)).installAsyncResourceBind();
}

const oldSpaceMb = () =>
  (getHeapSpaceStatistics().find((x) => x.space_name === 'old_space')?.space_used_size ?? 0) / 1048576;
let grownMb = 0;
let previous = oldSpaceMb();
let markCompacts = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === 4) markCompacts++;
  const now = oldSpaceMb();
  grownMb += Math.max(0, now - previous);
  previous = now;
}).observe({ entryTypes: ['gc'] });

const server = createServer();
server.on('stream', (stream) => {
  stream.resume();
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('ok\n');
  });
});
server.listen(0, '127.0.0.1', () => {
  const session = connect(`http://127.0.0.1:${server.address().port}`);
  let done = 0;
  const started = Date.now();
  const tick = setInterval(() => {
    for (let i = 0; i < 10; i++) {
      const req = session.request({ ':path': '/', ':method': 'GET' });
      req.resume();
      req.on('end', () => done++);
      req.end();
    }
    if (Date.now() - started < 6000) return;
    clearInterval(tick);
    setTimeout(() => {
      const perStreamKiB = (grownMb * 1024) / done;
      console.log(
        `${done} streams: old space grew ${grownMb.toFixed(1)} MB, ${perStreamKiB.toFixed(2)} KiB per stream ` +
          `(client and server), ${markCompacts} mark-compacts${fix ? ' (with the fix)' : ''}`,
      );
      session.close();
      server.close();
    }, 200);
  }, 10);
});
