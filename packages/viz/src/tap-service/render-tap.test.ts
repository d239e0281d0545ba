import { describe, expect, it } from 'vitest';
import { renderTapLine } from './render-tap.js';
import type { TapEventJson } from './tap-event-json.js';

const base = {
  source: { ip: '0.0.0.1', port: 0, metadata: { pod: 'client-0', namespace: 'ns1' } },
  destination: {
    ip: 'ff01::1',
    port: 0,
    metadata: { deployment: 'web', pod: 'web-0', namespace: 'ns1', tls: 'true' },
  },
  routeMeta: {},
  proxyDirection: 'OUTBOUND',
} as const satisfies Partial<TapEventJson>;

describe('renderTapLine (linkerd viz tap output)', () => {
  it('renders req, rsp and end lines as linkerd does', () => {
    const id = { base: 1, stream: 0 };
    expect(
      renderTapLine({
        ...base,
        requestInitEvent: {
          id,
          method: 'GET',
          scheme: 'HTTP',
          authority: 'localhost',
          path: '/some/path',
          headers: [],
        },
      }),
    ).toBe(
      'req id=1:0 proxy=out src=0.0.0.1:0 dst=[ff01::1]:0 tls=true :method=GET :authority=localhost :path=/some/path',
    );
    expect(
      renderTapLine({
        ...base,
        responseInitEvent: {
          id,
          sinceRequestInit: { seconds: 1, nanos: 500_000 },
          httpStatus: 200,
          headers: [],
        },
      }),
    ).toBe('rsp id=1:0 proxy=out src=0.0.0.1:0 dst=[ff01::1]:0 tls=true :status=200 latency=1000500µs');
    const end = {
      id,
      sinceRequestInit: { seconds: 0, nanos: 0 },
      sinceResponseInit: { seconds: 100, nanos: 0 },
      responseBytes: 1337,
      trailers: [],
    };
    expect(renderTapLine({ ...base, responseEndEvent: { ...end, grpcStatusCode: 666 } })).toBe(
      'end id=1:0 proxy=out src=0.0.0.1:0 dst=[ff01::1]:0 tls=true grpc-status=Code(666) duration=100000000µs response-length=1337B',
    );
    expect(renderTapLine({ ...base, responseEndEvent: { ...end, grpcStatusCode: 14 } })).toContain(
      'grpc-status=Unavailable ',
    );
    expect(renderTapLine({ ...base, responseEndEvent: { ...end, resetErrorCode: 2 } })).toContain(
      ' reset-error=2 duration=',
    );
    expect(renderTapLine({ ...base, responseEndEvent: end })).toContain('tls=true duration=100000000µs');
  });

  it('inbound lines take tls from the source; wide adds resources and route labels', () => {
    const line = renderTapLine(
      {
        ...base,
        proxyDirection: 'INBOUND',
        source: { ...base.source, metadata: { ...base.source.metadata, tls: 'true' } },
        routeMeta: { route: 'default' },
        requestInitEvent: {
          id: { base: 2, stream: 9 },
          method: 'POST',
          scheme: 'HTTP',
          authority: 'a',
          path: '/',
          headers: [],
        },
      },
      'deployment',
    );
    expect(line).toBe(
      'req id=2:9 proxy=in  src=0.0.0.1:0 dst=[ff01::1]:0 tls=true :method=POST :authority=a :path=/ src_pod=client-0 src_ns=ns1 dst_res=deploy/web dst_ns=ns1 rt_route=default',
    );
  });
});
