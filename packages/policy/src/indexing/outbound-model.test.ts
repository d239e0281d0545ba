import { describe, expect, it } from 'vitest';
import { parseAppProtocol } from './outbound-model.js';

describe('parseAppProtocol', () => {
  it.each([
    [undefined, undefined],
    ['http', 'http1'],
    ['HTTP', 'http1'],
    ['kubernetes.io/h2c', 'http2'],
    ['linkerd.io/opaque', 'opaque'],
    ['linkerd.io/tcp', 'opaque'],
    ['https', 'unknown'],
  ])('%s → %s (Linkerd: unknown app protocols are served as opaque)', (value, expected) => {
    expect(parseAppProtocol(value)).toBe(expected);
  });
});
