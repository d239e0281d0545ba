// Golden tests against an independent encoder: protoc (Debian's protobuf-compiler) encodes text
// protos with `protoc --encode`, our generated code decodes the bytes, and the result must equal
// the expected object. protoc maps the .proto field names to numbers on its own, so a wrong number,
// type or name on our side shows up here. The reverse direction is checked too: our encoding of the
// decoded message must read back through `protoc --decode` as the same text as protoc's own.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { MeshError } from '../errors/index.js';
import { createMessageCodec } from './message-codec.js';
import { COMPARABLE, generatedClass, PROTO_DIR } from './proto-reflection.test-support.js';

function protoc(args: string[], input: Uint8Array | string): Buffer {
  const res = spawnSync('protoc', ['-I', '.', ...args], { cwd: PROTO_DIR, input });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`protoc ${args.join(' ')} failed: ${res.stderr.toString()}`);
  return res.stdout;
}

const FOO_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const BOT_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
// 198.18.0.1 / .2 / .3, 198.18.0.0/15 and 198.19.255.0/24 as big-endian 32-bit numbers.
const IP1 = 0xc6120001;
const IP2 = 0xc6120002;
const IP3 = 0xc6120003;
const NET15 = 0xc6120000;
const EXCEPT24 = 0xc613ff00;
// 2001:db8::1 as two 64-bit halves.
const V6_FIRST = (0x20010db8n << 32n).toString();
const bytes = (text: string) => [...Buffer.from(text, 'latin1')];
const service = (name: string, port = 80) => ({
  resource: { group: 'core', kind: 'Service', name, namespace: 'emojivoto', ...(port ? { port } : {}) },
});

interface GoldenCase {
  name: string;
  file: string;
  type: string;
  text: string;
  expected: Record<string, unknown>;
}

const cases: GoldenCase[] = [
  {
    name: 'Destination.Get: Update with WeightedAddrSet, TlsIdentity, ProtocolHint, metric labels',
    file: 'destination.proto',
    type: 'io.linkerd.proxy.destination.Update',
    text: `
      add {
        addrs {
          addr { ip { ipv4: ${IP1} } port: 8080 }
          weight: 10000
          metric_labels { key: "pod" value: "web-5d8f7c" }
          metric_labels { key: "serviceaccount" value: "web" }
          tls_identity {
            dns_like_identity { name: "${FOO_ID}" }
            server_name { name: "${FOO_ID}" }
          }
          protocol_hint { h2 {} opaque_transport { inbound_port: 4143 } }
          authority_override { authority_override: "web-svc.emojivoto.svc.cluster.local:80" }
          http2 {
            flow_control { initial_connection_window_size: 1048576 initial_stream_window_size: 65535 adaptive_flow_control: true }
            keep_alive { interval { seconds: 10 } timeout { seconds: 3 nanos: 500000000 } while_idle: true }
            internals { max_concurrent_reset_streams: 20 max_frame_size: 16384 max_send_buf_size: 409600 }
          }
          resource_ref { resource { group: "core" kind: "Pod" name: "web-5d8f7c" namespace: "emojivoto" } }
        }
        addrs {
          addr { ip { ipv6 { first: 0x20010db800000000 last: 1 } } port: 9090 }
          weight: 1
          tls_identity { uri_like_identity { uri: "spiffe://cluster.local/ns/emojivoto/sa/web" } }
          protocol_hint { opaque {} }
        }
        metric_labels { key: "namespace" value: "emojivoto" }
        metric_labels { key: "service" value: "web-svc" }
      }`,
    expected: {
      add: {
        addrs: [
          {
            addr: { ip: { ipv4: IP1 }, port: 8080 },
            weight: 10000,
            metricLabels: { pod: 'web-5d8f7c', serviceaccount: 'web' },
            tlsIdentity: { dnsLikeIdentity: { name: FOO_ID }, serverName: { name: FOO_ID } },
            protocolHint: { h2: {}, opaqueTransport: { inboundPort: 4143 } },
            authorityOverride: { authorityOverride: 'web-svc.emojivoto.svc.cluster.local:80' },
            http2: {
              flowControl: {
                initialConnectionWindowSize: 1048576,
                initialStreamWindowSize: 65535,
                adaptiveFlowControl: true,
              },
              keepAlive: {
                interval: { seconds: '10' },
                timeout: { seconds: '3', nanos: 500000000 },
                whileIdle: true,
              },
              internals: { maxConcurrentResetStreams: 20, maxFrameSize: 16384, maxSendBufSize: 409600 },
            },
            resourceRef: {
              resource: { group: 'core', kind: 'Pod', name: 'web-5d8f7c', namespace: 'emojivoto' },
            },
          },
          {
            addr: { ip: { ipv6: { first: V6_FIRST, last: '1' } }, port: 9090 },
            weight: 1,
            tlsIdentity: { uriLikeIdentity: { uri: 'spiffe://cluster.local/ns/emojivoto/sa/web' } },
            protocolHint: { opaque: {} },
          },
        ],
        metricLabels: { namespace: 'emojivoto', service: 'web-svc' },
      },
    },
  },
  {
    name: 'Destination.Get: Update removing endpoints',
    file: 'destination.proto',
    type: 'io.linkerd.proxy.destination.Update',
    text: `remove { addrs { ip { ipv4: ${IP1} } port: 8080 } }`,
    expected: { remove: { addrs: [{ ip: { ipv4: IP1 }, port: 8080 }] } },
  },
  {
    name: 'Destination.GetProfile: DestinationProfile with routes, retry budget and a traffic split',
    file: 'destination.proto',
    type: 'io.linkerd.proxy.destination.DestinationProfile',
    text: `
      routes {
        condition {
          all {
            matches { path { regex: "/api/vote.*" } }
            matches { method { registered: POST } }
            matches { not { method { unregistered: "PURGE" } } }
          }
        }
        response_classes { condition { status { min: 500 max: 599 } } is_failure: true }
        response_classes { condition { any { matches { status { min: 429 max: 429 } } } } is_failure: true }
        metrics_labels { key: "route" value: "vote" }
        is_retryable: true
        timeout { seconds: 2 nanos: 500000000 }
      }
      retry_budget { retry_ratio: 0.25 min_retries_per_second: 10 ttl { seconds: 10 } }
      dst_overrides {
        authority: "web-v1.emojivoto.svc.cluster.local:80"
        weight: 900
        backend_ref { resource { group: "core" kind: "Service" name: "web-v1" namespace: "emojivoto" port: 80 } }
      }
      dst_overrides { authority: "web-v2.emojivoto.svc.cluster.local:80" weight: 100 }
      opaque_protocol: true
      fully_qualified_name: "web-svc.emojivoto.svc.cluster.local"
      endpoint { addr { ip { ipv4: ${IP2} } port: 8080 } weight: 10000 }
      parent_ref { resource { group: "core" kind: "Service" name: "web-svc" namespace: "emojivoto" port: 80 } }
      profile_ref {
        resource { group: "linkerd.io" kind: "ServiceProfile" name: "web-svc.emojivoto.svc.cluster.local" namespace: "emojivoto" }
      }`,
    expected: {
      routes: [
        {
          condition: {
            all: {
              matches: [
                { path: { regex: '/api/vote.*' } },
                { method: { registered: 'POST' } },
                { not: { method: { unregistered: 'PURGE' } } },
              ],
            },
          },
          responseClasses: [
            { condition: { status: { min: 500, max: 599 } }, isFailure: true },
            { condition: { any: { matches: [{ status: { min: 429, max: 429 } }] } }, isFailure: true },
          ],
          metricsLabels: { route: 'vote' },
          isRetryable: true,
          timeout: { seconds: '2', nanos: 500000000 },
        },
      ],
      retryBudget: { retryRatio: 0.25, minRetriesPerSecond: 10, ttl: { seconds: '10' } },
      dstOverrides: [
        { authority: 'web-v1.emojivoto.svc.cluster.local:80', weight: 900, backendRef: service('web-v1') },
        { authority: 'web-v2.emojivoto.svc.cluster.local:80', weight: 100 },
      ],
      opaqueProtocol: true,
      fullyQualifiedName: 'web-svc.emojivoto.svc.cluster.local',
      endpoint: { addr: { ip: { ipv4: IP2 }, port: 8080 }, weight: 10000 },
      parentRef: service('web-svc'),
      profileRef: {
        resource: {
          group: 'linkerd.io',
          kind: 'ServiceProfile',
          name: 'web-svc.emojivoto.svc.cluster.local',
          namespace: 'emojivoto',
        },
      },
    },
  },
  {
    name: 'Identity.Certify: CertifyRequest',
    file: 'identity.proto',
    type: 'io.linkerd.proxy.identity.CertifyRequest',
    text: `
      identity: "${FOO_ID}"
      token: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
      certificate_signing_request: "\\x30\\x82\\x01\\x0a\\x00\\xff"`,
    expected: {
      identity: FOO_ID,
      token: bytes('eyJhbGciOiJSUzI1NiJ9.e30.c2ln'),
      certificateSigningRequest: [0x30, 0x82, 0x01, 0x0a, 0x00, 0xff],
    },
  },
  {
    name: 'Identity.Certify: CertifyResponse',
    file: 'identity.proto',
    type: 'io.linkerd.proxy.identity.CertifyResponse',
    text: `
      leaf_certificate: "\\x30\\x82\\x02\\x01"
      intermediate_certificates: "\\x30\\x82\\x03\\x01"
      intermediate_certificates: "\\x30\\x82\\x04\\x01"
      valid_until { seconds: 1767312000 nanos: 123000000 }`,
    expected: {
      leafCertificate: [0x30, 0x82, 0x02, 0x01],
      intermediateCertificates: [
        [0x30, 0x82, 0x03, 0x01],
        [0x30, 0x82, 0x04, 0x01],
      ],
      validUntil: { seconds: '1767312000', nanos: 123000000 },
    },
  },
  {
    name: 'InboundServerPolicies: Server with Detect, HttpRoute, Authz and rate limit',
    file: 'inbound.proto',
    type: 'io.linkerd.proxy.inbound.Server',
    text: `
      protocol {
        detect {
          timeout { seconds: 10 }
          http_routes {
            metadata { resource { group: "policy.linkerd.io" kind: "HTTPRoute" name: "web-api" namespace: "emojivoto" } }
            hosts { exact: "web.emojivoto.example" }
            hosts { suffix { reverse_labels: "example" reverse_labels: "emojivoto" } }
            authorizations {
              networks {
                net { ip { ipv4: ${NET15} } prefix_len: 15 }
                except { ip { ipv4: ${EXCEPT24} } prefix_len: 24 }
              }
              authentication {
                meshTLS {
                  identities {
                    identities { name: "${BOT_ID}" }
                    suffixes { parts: "emojivoto" parts: "serviceaccount" }
                  }
                }
              }
              labels { key: "name" value: "vote-bot" }
              metadata { resource { group: "policy.linkerd.io" kind: "AuthorizationPolicy" name: "vote-bot" namespace: "emojivoto" } }
            }
            rules {
              matches {
                path { prefix: "/api/" }
                headers { name: "x-canary" exact: "yes" }
                headers { name: "user-agent" regex: "^curl/.*" }
                query_params { name: "debug" exact: "1" }
                method { registered: GET }
              }
              filters { failure_injector { status: 503 message: "injected" ratio { numerator: 1 denominator: 10 } } }
              filters {
                request_header_modifier {
                  add { headers { name: "x-mesh" value: "tsmesh" } }
                  set { headers { name: "x-env" value: "dev" } }
                  remove: "x-debug"
                }
              }
              filters { redirect { scheme { registered: HTTPS } host: "secure.example" path { prefix: "/v2/" } port: 8443 status: 302 } }
            }
          }
          http_local_rate_limit {
            metadata { default: "web-rate-limit" }
            total { requestsPerSecond: 1000 }
            identity { requestsPerSecond: 100 }
            overrides {
              limit { requestsPerSecond: 500 }
              clients { identities { name: "${BOT_ID}" } }
            }
          }
        }
      }
      server_ips { ipv4: ${IP1} }
      server_ips { ipv6 { first: 0x20010db800000000 last: 1 } }
      authorizations {
        networks { net { ip { ipv4: 0 } } }
        authentication { unauthenticated {} }
        metadata { default: "all-unauthenticated" }
      }
      labels { key: "group" value: "policy.linkerd.io" }
      labels { key: "kind" value: "Server" }
      labels { key: "name" value: "web-http" }`,
    expected: {
      protocol: {
        detect: {
          timeout: { seconds: '10' },
          httpRoutes: [
            {
              metadata: {
                resource: {
                  group: 'policy.linkerd.io',
                  kind: 'HTTPRoute',
                  name: 'web-api',
                  namespace: 'emojivoto',
                },
              },
              hosts: [
                { exact: 'web.emojivoto.example' },
                { suffix: { reverseLabels: ['example', 'emojivoto'] } },
              ],
              authorizations: [
                {
                  networks: [
                    {
                      net: { ip: { ipv4: NET15 }, prefixLen: 15 },
                      except: [{ ip: { ipv4: EXCEPT24 }, prefixLen: 24 }],
                    },
                  ],
                  authentication: {
                    meshTLS: {
                      identities: {
                        identities: [{ name: BOT_ID }],
                        suffixes: [{ parts: ['emojivoto', 'serviceaccount'] }],
                      },
                    },
                  },
                  labels: { name: 'vote-bot' },
                  metadata: {
                    resource: {
                      group: 'policy.linkerd.io',
                      kind: 'AuthorizationPolicy',
                      name: 'vote-bot',
                      namespace: 'emojivoto',
                    },
                  },
                },
              ],
              rules: [
                {
                  matches: [
                    {
                      path: { prefix: '/api/' },
                      headers: [
                        { name: 'x-canary', exact: bytes('yes') },
                        { name: 'user-agent', regex: '^curl/.*' },
                      ],
                      queryParams: [{ name: 'debug', exact: '1' }],
                      method: { registered: 'GET' },
                    },
                  ],
                  filters: [
                    {
                      failureInjector: {
                        status: 503,
                        message: 'injected',
                        ratio: { numerator: 1, denominator: 10 },
                      },
                    },
                    {
                      requestHeaderModifier: {
                        add: { headers: [{ name: 'x-mesh', value: bytes('tsmesh') }] },
                        set: { headers: [{ name: 'x-env', value: bytes('dev') }] },
                        remove: ['x-debug'],
                      },
                    },
                    {
                      redirect: {
                        scheme: { registered: 'HTTPS' },
                        host: 'secure.example',
                        path: { prefix: '/v2/' },
                        port: 8443,
                        status: 302,
                      },
                    },
                  ],
                },
              ],
            },
          ],
          httpLocalRateLimit: {
            metadata: { default: 'web-rate-limit' },
            total: { requestsPerSecond: 1000 },
            identity: { requestsPerSecond: 100 },
            overrides: [{ limit: { requestsPerSecond: 500 }, clients: { identities: [{ name: BOT_ID }] } }],
          },
        },
      },
      serverIps: [{ ipv4: IP1 }, { ipv6: { first: V6_FIRST, last: '1' } }],
      authorizations: [
        {
          // A oneof member set to its default value is still present on the wire.
          networks: [{ net: { ip: { ipv4: 0 } } }],
          authentication: { unauthenticated: {} },
          metadata: { default: 'all-unauthenticated' },
        },
      ],
      labels: { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' },
    },
  },
  {
    name: 'InboundServerPolicies: Server with a gRPC route',
    file: 'inbound.proto',
    type: 'io.linkerd.proxy.inbound.Server',
    text: `
      protocol {
        grpc {
          routes {
            metadata { default: "default-grpc" }
            rules {
              matches { rpc { service: "emojivoto.v1.VotingService" method: "VoteDoughnut" } headers { name: "x-tenant" exact: "a" } }
              filters { failure_injector { code: 14 message: "unavailable" } }
            }
          }
        }
      }`,
    expected: {
      protocol: {
        grpc: {
          routes: [
            {
              metadata: { default: 'default-grpc' },
              rules: [
                {
                  matches: [
                    {
                      rpc: { service: 'emojivoto.v1.VotingService', method: 'VoteDoughnut' },
                      headers: [{ name: 'x-tenant', exact: bytes('a') }],
                    },
                  ],
                  filters: [{ failureInjector: { code: 14, message: 'unavailable' } }],
                },
              ],
            },
          ],
        },
      },
    },
  },
  {
    name: 'OutboundPolicies: OutboundPolicy with an HTTP route, backends, retry, timeouts, failure accrual',
    file: 'outbound.proto',
    type: 'io.linkerd.proxy.outbound.OutboundPolicy',
    text: `
      protocol {
        http2 {
          routes {
            metadata { resource { group: "gateway.networking.k8s.io" kind: "HTTPRoute" name: "web-split" namespace: "emojivoto" } }
            hosts { suffix { reverse_labels: "local" reverse_labels: "cluster" } }
            rules {
              matches { path { exact: "/api/list" } }
              filters { response_header_modifier { set { headers { name: "cache-control" value: "no-store" } } } }
              backends {
                random_available {
                  backends {
                    backend {
                      backend {
                        metadata { resource { group: "core" kind: "Service" name: "web-v1" namespace: "emojivoto" port: 80 } }
                        balancer {
                          discovery { dst { path: "web-v1.emojivoto.svc.cluster.local:80" } }
                          penalty_peak_ewma {
                            default_rtt { nanos: 30000000 }
                            decay { seconds: 10 }
                            penalty { seconds: 5 }
                            max_retry_after { seconds: 300 }
                            penalty_decay { seconds: 10 }
                          }
                        }
                        queue { capacity: 100 failfast_timeout { seconds: 3 } }
                      }
                      filters { request_header_modifier { remove: "x-internal" } }
                      requestTimeout { seconds: 1 }
                    }
                    weight: 90
                  }
                  backends {
                    backend {
                      backend {
                        metadata { default: "forward" }
                        forward { addr { ip { ipv4: ${IP3} } port: 8080 } weight: 1 tls_identity { dns_like_identity { name: "${FOO_ID}" } } }
                        queue { capacity: 10 }
                      }
                    }
                    weight: 10
                  }
                }
              }
              requestTimeout { seconds: 5 }
              timeouts { response { seconds: 5 } request { seconds: 10 } idle { seconds: 60 } }
              retry {
                max_retries: 3
                max_request_bytes: 65536
                conditions { status_ranges { start: 500 end: 599 } status_ranges { start: 429 end: 429 } }
                timeout { nanos: 250000000 }
                backoff { min_backoff { nanos: 25000000 } max_backoff { seconds: 1 } jitter_ratio: 0.5 respect_retry_after_hint: true }
              }
              allow_l5d_request_headers: true
            }
          }
          failure_accrual {
            unified {
              success_rate_threshold: 0.95
              decay { seconds: 30 }
              min_requests: 20
              max_consecutive_failures: 7
              backoff { min_backoff { seconds: 1 } max_backoff { seconds: 60 } jitter_ratio: 0.5 }
            }
            ejection { min_ready_endpoints: 2 }
          }
        }
      }
      metadata { resource { group: "core" kind: "Service" name: "web-svc" namespace: "emojivoto" port: 80 } }`,
    expected: {
      protocol: {
        http2: {
          routes: [
            {
              metadata: {
                resource: {
                  group: 'gateway.networking.k8s.io',
                  kind: 'HTTPRoute',
                  name: 'web-split',
                  namespace: 'emojivoto',
                },
              },
              hosts: [{ suffix: { reverseLabels: ['local', 'cluster'] } }],
              rules: [
                {
                  matches: [{ path: { exact: '/api/list' } }],
                  filters: [
                    {
                      responseHeaderModifier: {
                        set: { headers: [{ name: 'cache-control', value: bytes('no-store') }] },
                      },
                    },
                  ],
                  backends: {
                    randomAvailable: {
                      backends: [
                        {
                          backend: {
                            backend: {
                              metadata: service('web-v1'),
                              balancer: {
                                discovery: { dst: { path: 'web-v1.emojivoto.svc.cluster.local:80' } },
                                penaltyPeakEwma: {
                                  defaultRtt: { nanos: 30000000 },
                                  decay: { seconds: '10' },
                                  penalty: { seconds: '5' },
                                  maxRetryAfter: { seconds: '300' },
                                  penaltyDecay: { seconds: '10' },
                                },
                              },
                              queue: { capacity: 100, failfastTimeout: { seconds: '3' } },
                            },
                            filters: [{ requestHeaderModifier: { remove: ['x-internal'] } }],
                            requestTimeout: { seconds: '1' },
                          },
                          weight: 90,
                        },
                        {
                          backend: {
                            backend: {
                              metadata: { default: 'forward' },
                              forward: {
                                addr: { ip: { ipv4: IP3 }, port: 8080 },
                                weight: 1,
                                tlsIdentity: { dnsLikeIdentity: { name: FOO_ID } },
                              },
                              queue: { capacity: 10 },
                            },
                          },
                          weight: 10,
                        },
                      ],
                    },
                  },
                  requestTimeout: { seconds: '5' },
                  timeouts: {
                    response: { seconds: '5' },
                    request: { seconds: '10' },
                    idle: { seconds: '60' },
                  },
                  retry: {
                    maxRetries: 3,
                    maxRequestBytes: 65536,
                    conditions: {
                      statusRanges: [
                        { start: 500, end: 599 },
                        { start: 429, end: 429 },
                      ],
                    },
                    timeout: { nanos: 250000000 },
                    backoff: {
                      minBackoff: { nanos: 25000000 },
                      maxBackoff: { seconds: '1' },
                      jitterRatio: 0.5,
                      respectRetryAfterHint: true,
                    },
                  },
                  allowL5dRequestHeaders: true,
                },
              ],
            },
          ],
          failureAccrual: {
            unified: {
              successRateThreshold: 0.95,
              decay: { seconds: '30' },
              minRequests: 20,
              maxConsecutiveFailures: 7,
              backoff: { minBackoff: { seconds: '1' }, maxBackoff: { seconds: '60' }, jitterRatio: 0.5 },
            },
            ejection: { minReadyEndpoints: 2 },
          },
        },
      },
      metadata: service('web-svc'),
    },
  },
  {
    name: 'OutboundPolicies: OutboundPolicy with a gRPC route and consecutive-failure accrual',
    file: 'outbound.proto',
    type: 'io.linkerd.proxy.outbound.OutboundPolicy',
    text: `
      protocol {
        grpc {
          routes {
            metadata { default: "grpc" }
            rules {
              matches { rpc { service: "emojivoto.v1.EmojiService" } }
              filters { failure_injector { code: 14 message: "down" ratio { numerator: 1 denominator: 2 } } }
              backends {
                first_available {
                  backends {
                    backend {
                      metadata { default: "emoji" }
                      balancer {
                        discovery { dst { path: "emoji-svc.emojivoto.svc.cluster.local:8080" } }
                        peak_ewma { default_rtt { nanos: 30000000 } decay { seconds: 10 } }
                      }
                    }
                  }
                }
              }
              retry {
                max_retries: 2
                conditions { cancelled: true deadine_exceeded: true resource_exhausted: true internal: true unavailable: true }
              }
            }
          }
          failure_accrual {
            consecutive_failures { max_failures: 7 backoff { min_backoff { seconds: 1 } max_backoff { seconds: 60 } jitter_ratio: 0.5 } }
          }
        }
      }`,
    expected: {
      protocol: {
        grpc: {
          routes: [
            {
              metadata: { default: 'grpc' },
              rules: [
                {
                  matches: [{ rpc: { service: 'emojivoto.v1.EmojiService' } }],
                  filters: [
                    {
                      failureInjector: { code: 14, message: 'down', ratio: { numerator: 1, denominator: 2 } },
                    },
                  ],
                  backends: {
                    firstAvailable: {
                      backends: [
                        {
                          backend: {
                            metadata: { default: 'emoji' },
                            balancer: {
                              discovery: { dst: { path: 'emoji-svc.emojivoto.svc.cluster.local:8080' } },
                              peakEwma: { defaultRtt: { nanos: 30000000 }, decay: { seconds: '10' } },
                            },
                          },
                        },
                      ],
                    },
                  },
                  retry: {
                    maxRetries: 2,
                    conditions: {
                      cancelled: true,
                      deadineExceeded: true,
                      resourceExhausted: true,
                      internal: true,
                      unavailable: true,
                    },
                  },
                },
              ],
            },
          ],
          failureAccrual: {
            consecutiveFailures: {
              maxFailures: 7,
              backoff: { minBackoff: { seconds: '1' }, maxBackoff: { seconds: '60' }, jitterRatio: 0.5 },
            },
          },
        },
      },
    },
  },
  {
    name: 'OutboundPolicies: OutboundPolicy with a TLS route and opaque filters',
    file: 'outbound.proto',
    type: 'io.linkerd.proxy.outbound.OutboundPolicy',
    text: `
      protocol {
        tls {
          routes {
            metadata { default: "tls" }
            snis { exact: "api.example" }
            snis { suffix { reverse_labels: "example" } }
            rules { backends { empty {} } filters { forbidden {} } filters { invalid { message: "no backend" } } }
          }
        }
      }`,
    expected: {
      protocol: {
        tls: {
          routes: [
            {
              metadata: { default: 'tls' },
              snis: [{ exact: 'api.example' }, { suffix: { reverseLabels: ['example'] } }],
              rules: [
                {
                  backends: { empty: {} },
                  filters: [{ forbidden: {} }, { invalid: { message: 'no backend' } }],
                },
              ],
            },
          ],
        },
      },
    },
  },
  {
    name: 'OutboundPolicies: TrafficSpec',
    file: 'outbound.proto',
    type: 'io.linkerd.proxy.outbound.TrafficSpec',
    text: `source_workload: "{\\"ns\\":\\"emojivoto\\",\\"pod\\":\\"web-1\\"}" addr { ip { ipv4: ${IP1} } port: 80 }`,
    expected: { sourceWorkload: '{"ns":"emojivoto","pod":"web-1"}', addr: { ip: { ipv4: IP1 }, port: 80 } },
  },
  {
    name: 'Tap.Observe: TapEvent with a response end',
    file: 'tap.proto',
    type: 'io.linkerd.proxy.tap.TapEvent',
    text: `
      source { ip { ipv4: ${IP1} } port: 54321 }
      destination { ip { ipv4: ${IP2} } port: 8080 }
      http {
        response_end {
          id { base: 7 stream: 18446744073709551615 }
          since_request_init { nanos: 1500000 }
          since_response_init { nanos: 500000 }
          response_bytes: 12345678901
          eos { grpc_status_code: 14 }
          trailers { headers { name: "grpc-status" value: "14" } headers { name: "grpc-message" value: "unavailable" } }
        }
      }
      destination_meta { labels { key: "pod" value: "emoji-1" } labels { key: "namespace" value: "emojivoto" } }
      source_meta { labels { key: "pod" value: "web-1" } }
      proxy_direction: OUTBOUND
      route_meta { labels { key: "route" value: "GET /api/list" } }`,
    expected: {
      source: { ip: { ipv4: IP1 }, port: 54321 },
      destination: { ip: { ipv4: IP2 }, port: 8080 },
      http: {
        responseEnd: {
          id: { base: 7, stream: '18446744073709551615' },
          sinceRequestInit: { nanos: 1500000 },
          sinceResponseInit: { nanos: 500000 },
          responseBytes: '12345678901',
          eos: { grpcStatusCode: 14 },
          trailers: {
            headers: [
              { name: 'grpc-status', value: bytes('14') },
              { name: 'grpc-message', value: bytes('unavailable') },
            ],
          },
        },
      },
      destinationMeta: { labels: { pod: 'emoji-1', namespace: 'emojivoto' } },
      sourceMeta: { labels: { pod: 'web-1' } },
      proxyDirection: 'OUTBOUND',
      routeMeta: { labels: { route: 'GET /api/list' } },
    },
  },
  {
    name: 'Tap.Observe: TapEvent with a request init',
    file: 'tap.proto',
    type: 'io.linkerd.proxy.tap.TapEvent',
    text: `
      proxy_direction: INBOUND
      http {
        request_init {
          id { base: 7 stream: 1 }
          method { registered: PATCH }
          scheme { unregistered: "h2c" }
          authority: "web-svc.emojivoto.svc.cluster.local"
          path: "/api/vote?choice=doughnut"
          headers { headers { name: "user-agent" value: "curl/8.0" } }
        }
      }`,
    expected: {
      proxyDirection: 'INBOUND',
      http: {
        requestInit: {
          id: { base: 7, stream: '1' },
          method: { registered: 'PATCH' },
          scheme: { unregistered: 'h2c' },
          authority: 'web-svc.emojivoto.svc.cluster.local',
          path: '/api/vote?choice=doughnut',
          headers: { headers: [{ name: 'user-agent', value: bytes('curl/8.0') }] },
        },
      },
    },
  },
  {
    name: 'Tap.Observe: ObserveRequest',
    file: 'tap.proto',
    type: 'io.linkerd.proxy.tap.ObserveRequest',
    text: `
      limit: 100
      match {
        all {
          matches { destination_label { key: "deployment" value: "web" } }
          matches { http { path { prefix: "/api" } } }
          matches { not { source { netmask { ip { ipv4: ${NET15} } mask: 15 } } } }
          matches { destination { ports { min: 8000 max: 8999 } } }
        }
      }
      extract { http { headers {} } }`,
    expected: {
      limit: 100,
      match: {
        all: {
          matches: [
            { destinationLabel: { key: 'deployment', value: 'web' } },
            { http: { path: { prefix: '/api' } } },
            { not: { source: { netmask: { ip: { ipv4: NET15 }, mask: 15 } } } },
            { destination: { ports: { min: 8000, max: 8999 } } },
          ],
        },
      },
      extract: { http: { headers: {} } },
    },
  },
  {
    name: 'opaque transport: transport.l5d.io.Header',
    file: 'transport_header.proto',
    type: 'transport.l5d.io.Header',
    text: `port: 8080 name: "web-svc.emojivoto.svc.cluster.local" session_protocol { http2 {} }`,
    expected: { port: 8080, name: 'web-svc.emojivoto.svc.cluster.local', sessionProtocol: { http2: {} } },
  },
];

describe('golden: protoc-encoded messages decode to the expected values', () => {
  beforeAll(() => {
    const res = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
    if (res.error || res.status !== 0) {
      throw new Error(
        'protoc is not installed, and the golden tests need it as an independent protobuf encoder. ' +
          'Install it with `apt-get install -y protobuf-compiler` (the root `npm test` does this ' +
          'through scripts/system-packages.mjs).',
      );
    }
  });

  it.each(cases)('$name', ({ file, type, text, expected }) => {
    const generated = generatedClass(type);
    const codec = createMessageCodec(generated, type);
    const wire = protoc([`--encode=${type}`, file], text);
    expect(wire.length).toBeGreaterThan(0);

    const decoded = codec.decode(wire);
    expect(generated.toObject(decoded, COMPARABLE)).toEqual(expected);

    // Our encoding of the same message reads back through protoc as the same message.
    const ours = codec.encode(decoded);
    expect(protoc([`--decode=${type}`, file], ours).toString()).toEqual(
      protoc([`--decode=${type}`, file], wire).toString(),
    );
  });

  it('rejects protoc output truncated mid-field with a decode error', () => {
    const type = 'io.linkerd.proxy.identity.CertifyRequest';
    const wire = protoc([`--encode=${type}`, 'identity.proto'], `identity: "${FOO_ID}"`);
    const codec = createMessageCodec(generatedClass(type), type);
    const err = (() => {
      try {
        codec.decode(wire.subarray(0, wire.length - 5));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(MeshError);
    expect((err as MeshError).code).toBe('decode');
    expect((err as MeshError).describe()).toContain(type);
  });
});
