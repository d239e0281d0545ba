// The injector configuration the golden files are made with: fixed version, fixed (fake) trust
// anchors, so that outputs do not change with the package version.
import { createInjectorConfig, type InjectorConfigInput } from '../src/index.js';

export const TEST_TRUST_ANCHORS = `-----BEGIN CERTIFICATE-----
MIIBTESTTRUSTANCHORSNOTAREALCERTIFICATEJUSTFIXEDTEXTFORGOLDENFILES
-----END CERTIFICATE-----`;

export function testConfig(input: InjectorConfigInput = {}) {
  return createInjectorConfig({
    trustAnchorsPem: TEST_TRUST_ANCHORS,
    createdBy: 'tsmesh/test test-version',
    ...input,
    proxy: { ...input.proxy, image: { version: 'test-version', ...input.proxy?.image } },
    debugImage: { version: 'test-version', ...input.debugImage },
  });
}
