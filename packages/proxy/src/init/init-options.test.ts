import { MeshError } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { INIT_DEFAULTS, parseInitArgs } from './init-options.js';

const errorOf = (argv: string[]) => {
  try {
    parseInitArgs(argv);
  } catch (err) {
    return MeshError.is(err) ? err.describe() : String(err);
  }
  return undefined;
};

describe('parseInitArgs', () => {
  it('defaults to the injector values: 4143, 4140, uid 2102, IPv4 and IPv6', () => {
    expect(parseInitArgs([])).toEqual(INIT_DEFAULTS);
    expect(INIT_DEFAULTS).toMatchObject({
      incomingProxyPort: 4143,
      outgoingProxyPort: 4140,
      proxyUid: 2102,
      ipv6: true,
    });
  });

  it('takes long, --flag=value, short and repeated list flags like pflag', () => {
    const o = parseInitArgs([
      '-p',
      '14143',
      '--outgoing-proxy-port=14140',
      '-u',
      '999',
      '--inbound-ports-to-ignore',
      '4190,4191',
      '--inbound-ports-to-ignore=5000-5010',
      '--subnets-to-ignore',
      '198.18.0.0/15',
      '--ipv6=false',
      '--dry-run',
      '--netns',
      '/var/run/netns/x',
    ]);
    expect(o).toMatchObject({
      incomingProxyPort: 14143,
      outgoingProxyPort: 14140,
      proxyUid: 999,
      inboundPortsToIgnore: [
        { from: 4190, to: 4190 },
        { from: 4191, to: 4191 },
        { from: 5000, to: 5010 },
      ],
      subnetsToIgnore: ['198.18.0.0/15'],
      ipv6: false,
      simulate: true,
      netns: '/var/run/netns/x',
    });
  });

  it('names the flag and what it accepts on a bad value', () => {
    expect(errorOf(['--incoming-proxy-port', '70000'])).toMatch(/--incoming-proxy-port.*TCP port number/);
    expect(errorOf(['--subnets-to-ignore', '198.18.0.0'])).toMatch(/--subnets-to-ignore.*CIDR/);
    expect(errorOf(['--inbound-ports-to-ignore', '90-80'])).toMatch(/--inbound-ports-to-ignore/);
    expect(errorOf(['--iptables-mode', 'auto2'])).toMatch(/"legacy", "nft" or "plain"/);
    expect(errorOf(['--bogus'])).toMatch(/unknown flag "--bogus"/);
    expect(errorOf(['--netns'])).toMatch(/--netns.*needs a value/);
  });
});
