import { describe, expect, it } from 'vitest';
import { createAccessLog, formatTimestamp, parseAccessLogFormat, type AccessLogEntry } from './index.js';

const entry: AccessLogEntry = {
  clientAddr: '10.42.0.63:51160',
  clientId: 'traffic.booksapp.serviceaccount.identity.linkerd.cluster.local',
  startedNs: 1661286500071809491n,
  method: 'GET',
  uri: 'http://webapp:7000/',
  version: 'HTTP/2.0',
  status: 200,
  host: 'webapp:7000',
  userAgent: 'curl/8',
  totalNs: 1234n,
  traceId: '',
};

describe('access log', () => {
  it('writes Linkerd apache lines', () => {
    const lines: string[] = [];
    const log = createAccessLog('apache', (l) => lines.push(l));
    log.log(entry);
    log.flush();
    expect(lines).toEqual([
      '10.42.0.63:51160 traffic.booksapp.serviceaccount.identity.linkerd.cluster.local - [2022-08-23T20:28:20.071809491Z] "GET http://webapp:7000/ HTTP/2.0" 200\n',
    ]);
  });

  it('writes Linkerd json lines, batched per event-loop turn', async () => {
    const lines: string[] = [];
    const log = createAccessLog('json', (l) => lines.push(l));
    log.log({ ...entry, clientId: undefined });
    log.log(entry);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1); // one write per event-loop turn
    expect(lines[0]?.split('\n')).toHaveLength(3);
    const obj = JSON.parse(lines[0]?.split('\n')[0] ?? '') as Record<string, unknown>;
    expect(obj).toMatchObject({
      'client.addr': '10.42.0.63:51160',
      'client.id': '-',
      method: 'GET',
      status: 200,
      timestamp: '2022-08-23T20:28:20.071809491Z',
      total_ns: '1234',
      uri: 'http://webapp:7000/',
      user_agent: 'curl/8',
      version: 'HTTP/2.0',
    });
  });

  it('parses the variable and keeps nanoseconds', () => {
    expect(parseAccessLogFormat('JSON')).toBe('json');
    expect(parseAccessLogFormat('common')).toBeUndefined();
    expect(formatTimestamp(5n)).toBe('1970-01-01T00:00:00.000000005Z');
  });
});
