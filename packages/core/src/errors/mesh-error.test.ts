import { describe, expect, it } from 'vitest';
import { GrpcStatus, MeshError, MeshErrorCode, toGrpcStatus, toMeshError } from './index.js';

describe('MeshError', () => {
  it('keeps code, cause, location and hint', () => {
    const cause = new Error('boom');
    const err = new MeshError(MeshErrorCode.InvalidArgument, 'bad port', {
      cause,
      where: 'LINKERD2_PROXY_INBOUND_PORTS',
      hint: 'use a comma list of ports from 1 to 65535',
    });
    expect(err.code).toBe('invalid_argument');
    expect(err.cause).toBe(cause);
    expect(err.describe()).toBe(
      'LINKERD2_PROXY_INBOUND_PORTS: bad port (use a comma list of ports from 1 to 65535)',
    );
  });

  it('is recognised across copies through its brand', () => {
    const foreign = Object.assign(new Error('x'), { code: 'internal' });
    Object.defineProperty(foreign, Symbol.for('@tsmesh/core.MeshError'), { value: true });
    expect(foreign instanceof MeshError).toBe(true);
    expect(new Error('plain') instanceof MeshError).toBe(false);
  });

  it('maps every code to a gRPC status exactly once', () => {
    for (const code of Object.values(MeshErrorCode)) {
      const { code: status } = toGrpcStatus(new MeshError(code, 'x'));
      expect(Object.values(GrpcStatus)).toContain(status);
    }
    expect(toGrpcStatus(new MeshError(MeshErrorCode.Unavailable, 'issuer not ready')).code).toBe(
      GrpcStatus.UNAVAILABLE,
    );
    expect(toGrpcStatus(new Error('anything')).code).toBe(GrpcStatus.INTERNAL);
  });

  it('wraps foreign errors as the cause', () => {
    const wrapped = toMeshError('just a string', MeshErrorCode.Decode);
    expect(wrapped.code).toBe('decode');
    expect(wrapped.cause).toBe('just a string');
  });
});
