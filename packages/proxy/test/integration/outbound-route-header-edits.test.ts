// A route's RequestHeaderModifier and ResponseHeaderModifier through the outbound mesh stack, on
// both HTTP/1 engines: the edits reach the app and the client, a value's bytes unchanged; an edit
// no hop could carry (CR LF in a value, a framing header) makes the policy unusable when it is
// compiled — the proxy says why and keeps the plan it had, and nothing is ever injected into a
// request or response head. Real HTTP servers on 127.0.1.N and a scriptable control plane.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { meshTestbed, requestVia } from './support/mesh-outbound.js';
import { httpPolicy, type TestHeaderEdits } from './support/policies.js';

const WEB = 'web.emojivoto.svc.cluster.local:80';
const ENGINES = ['raw', 'node'] as const;

const t = meshTestbed();

/** An app that answers with the request headers it got (x-* only, values as their bytes in hex). */
function echoHeaders(req: IncomingMessage, res: ServerResponse): void {
  const seen: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    if (!name.startsWith('x-')) continue;
    (seen[name] ??= []).push(Buffer.from(req.rawHeaders[i + 1] as string, 'latin1').toString('hex'));
  }
  res.setHeader('x-app', 'kept');
  res.setHeader('x-drop-me', 'by the route');
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(seen));
}

const hex = (s: string) => Buffer.from(s).toString('hex');

const policyWith = (requestHeaders: TestHeaderEdits, responseHeaders?: TestHeaderEdits) =>
  httpPolicy(WEB, [{ backends: [{ path: WEB }], requestHeaders, responseHeaders }]);

/** Waits until `check` holds (policy updates reach the proxy asynchronously). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(ENGINES)('route header edits through the outbound mesh (%s engine)', (engine) => {
  it('adds, sets and removes request and response headers; a value keeps its bytes', async () => {
    const app = await t.server('127.0.1.1', echoHeaders);
    t.cp.setEndpoints(WEB, [app]);
    t.cp.setPolicy(
      WEB,
      policyWith(
        {
          add: { 'x-added': 'a', 'x-client': 'second' },
          set: { 'x-set': 'route', 'x-utf8': 'café ✓' },
          remove: ['x-secret'],
        },
        { add: { 'x-route': 'web' }, set: { 'x-app': 'replaced' }, remove: ['x-drop-me'] },
      ),
    );
    const p = await t.start({ http1Engine: engine });
    const res = await requestVia(p.port, WEB, '/', {
      headers: { 'x-client': 'first', 'x-set': 'client', 'x-secret': 's3cret' },
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      'x-client': [hex('first'), hex('second')],
      'x-set': [hex('route')],
      'x-utf8': [hex('café ✓')],
      'x-added': [hex('a')],
    });
    expect(res.headers['x-route']).toBe('web');
    expect(res.headers['x-app']).toBe('replaced');
    expect(res.headers['x-drop-me']).toBeUndefined();
  });

  it('refuses a policy whose edit would inject a header line, says why, and keeps the plan it had', async () => {
    const app = await t.server('127.0.1.2', echoHeaders);
    t.cp.setEndpoints(WEB, [app]);
    t.cp.setPolicy(WEB, policyWith({ set: { 'x-set': 'good' } }));
    const errors: string[] = [];
    const p = await t.start({
      http1Engine: engine,
      onPlanError: (authority, err) => errors.push(`${authority}: ${err.message}`),
    });
    const first = await requestVia(p.port, WEB);
    expect(JSON.parse(first.body)).toEqual({ 'x-set': [hex('good')] });

    // CR LF in a request edit's value, a framing header in a response edit.
    t.cp.setPolicy(
      WEB,
      policyWith({ set: { 'x-set': 'evil\r\nx-injected: 1' } }, { set: { 'content-length': '0' } }),
    );
    await until(async () => errors.length > 0, 'the plan error');
    expect(errors[0]).toBe(
      `${WEB}: HTTPRoute emojivoto/test-route rules[0].requestHeaderModifier.set[0]: ` +
        'the value of x-set holds control character 0x0d at offset 4',
    );
    for (let i = 0; i < 5; i++) {
      const res = await requestVia(p.port, WEB);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ 'x-set': [hex('good')] });
    }

    // A usable policy afterwards is taken.
    t.cp.setPolicy(WEB, policyWith({ set: { 'x-set': 'better' } }));
    await until(
      async () => JSON.parse((await requestVia(p.port, WEB)).body)['x-set']?.[0] === hex('better'),
      'the next policy',
    );
  });

  it('serves with the default route when the first policy is unusable', async () => {
    const app = await t.server('127.0.1.3', echoHeaders);
    t.cp.setEndpoints(WEB, [app]);
    t.cp.setPolicy(WEB, policyWith({}, { add: { 'bad name': 'x' } }));
    const errors: Error[] = [];
    const p = await t.start({ http1Engine: engine, onPlanError: (_a, err) => errors.push(err) });
    const res = await requestVia(p.port, WEB);
    expect(res.status).toBe(200);
    expect(res.headers['bad name']).toBeUndefined();
    expect(errors.map((e) => e.message)).toContain(
      'HTTPRoute emojivoto/test-route rules[0].responseHeaderModifier.add[0]: "bad name" is not a header ' +
        "name (RFC 9110 §5.6.2: letters, digits and !#$%&'*+-.^_`|~)",
    );
  });
});
