/**
 * Google Cloud's rules as the component encodes them (constructs/gcp/platform.ts, args.ts), each against the
 * behaviour it stands for: the X-Forwarded-For Google's front ends send, Cloud SQL's limits and certificates.
 */
import proxyaddr from '@fastify/proxy-addr';
import { BRIDGE_ENV } from '../../contract';
import { bridgeEnvironment, resolveBridgeArgs } from '../../constructs/common';
import {
  CLEANUP_POLICIES,
  GCP_RULES,
  caBundle,
  checkDomainInZone,
  cloudSqlMaxConnections,
  connectionProblem,
  executionToken,
  ingressFor,
  postgresUrl,
  pscDnsName,
  trafficRecords,
  trustProxyFor,
} from '../../constructs/gcp';

/**
 * The client address under hop-count trust as SCIM_TRUST_PROXY defines it ("the client is the address that many hops
 * from the right"), computed by proxy-addr (Express's `trust proxy` number: trust the socket peer and the entries
 * appended after the client). The peer is Cloud Run's own proxy. (Fastify 5.12 no longer honours a bare number for
 * `trustProxy`: it fails closed, so the bridge hands it a function of this shape.)
 */
function clientAddress(trustProxy: string, xff: string): string {
  const hops = Number(trustProxy);
  const req = { socket: { remoteAddress: '169.254.8.1' }, connection: { remoteAddress: '169.254.8.1' }, headers: { 'x-forwarded-for': xff } };
  return proxyaddr(req as never, (_addr: string, i: number) => i < hops);
}

describe('SCIM_TRUST_PROXY for each front door, against the X-Forwarded-For Google documents', () => {
  const trust = (frontDoor: 'loadBalancer' | 'domainMapping') =>
    bridgeEnvironment(resolveBridgeArgs({ domain: 'scim.example.com' }, GCP_RULES), { trustProxy: trustProxyFor(frontDoor), platformSetsPort: true })[
      BRIDGE_ENV.trustProxy
    ];

  // "X-Forwarded-For: <unverified IP(s)>, <immediate client IP>, <global forwarding rule external IP>": only the last
  // two are written by the load balancer (cloud.google.com/load-balancing/docs/https, X-Forwarded-For header).
  test('load balancer: the client is found and a forged entry in front of it is ignored', () => {
    expect(trust('loadBalancer')).toBe('2');
    expect(clientAddress(trust('loadBalancer'), '6.6.6.6, 203.0.113.9, 34.117.20.30')).toBe('203.0.113.9');
    expect(clientAddress(trust('loadBalancer'), '203.0.113.9, 34.117.20.30')).toBe('203.0.113.9');
    // One hop would take the load balancer's own address for the client: every request would share one limit bucket.
    expect(clientAddress('1', '203.0.113.9, 34.117.20.30')).toBe('34.117.20.30');
  });

  // Cloud Run's front end appends the peer address it saw to whatever the client sent.
  test('domain mapping: the rightmost entry is the client; a forged entry in front of it is ignored', () => {
    expect(trust('domainMapping')).toBe('1');
    expect(clientAddress(trust('domainMapping'), '6.6.6.6, 203.0.113.9')).toBe('203.0.113.9');
  });

  test('ingress admits only the chosen front door', () => {
    expect(ingressFor('loadBalancer')).toBe('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
    expect(ingressFor('domainMapping')).toBe('INGRESS_TRAFFIC_ALL');
  });
});

describe('Cloud SQL', () => {
  test('default max_connections by tier (Cloud SQL for PostgreSQL connection limits)', () => {
    expect(cloudSqlMaxConnections('db-f1-micro')).toBe(25);
    expect(cloudSqlMaxConnections('db-g1-small')).toBe(50);
    expect(cloudSqlMaxConnections('db-custom-1-3840')).toBe(100);
    expect(cloudSqlMaxConnections('db-custom-2-7680')).toBe(400);
    expect(cloudSqlMaxConnections('db-custom-4-15360')).toBe(500);
    expect(cloudSqlMaxConnections('db-custom-96-624640')).toBe(1000);
    expect(cloudSqlMaxConnections('db-perf-optimized-N-2')).toBeUndefined();
  });

  test('a maxReplicas whose rolling deploy could exceed the tier connections is a problem, naming both args', () => {
    expect(connectionProblem({ maxReplicas: 6, databaseTier: 'db-custom-1-3840' })).toBeUndefined();
    expect(connectionProblem({ maxReplicas: 20, databaseTier: 'db-custom-1-3840' })).toMatch(
      /^20 can open 201 database connections .* 97 that db-custom-1-3840 allows .*database\.size/,
    );
    expect(connectionProblem({ maxReplicas: 20, databaseTier: 'db-custom-4-15360' })).toBeUndefined();
  });

  test('the DNS name the connectors use: the Private Service Connect entry, else the older dnsName; no name is an error', () => {
    const names = [
      { connectionType: 'PRIVATE_SERVICES_ACCESS', dnsScope: 'INSTANCE', name: 'psa.x.europe-west1.sql.goog.' },
      { connectionType: 'PRIVATE_SERVICE_CONNECT', dnsScope: 'INSTANCE', name: 'PSC.x.europe-west1.sql.goog.' },
    ];
    expect(pscDnsName(names, 'legacy.sql.goog.')).toBe('psc.x.europe-west1.sql.goog');
    expect(pscDnsName([], 'legacy.x.sql.goog.')).toBe('legacy.x.sql.goog');
    expect(() => pscDnsName(undefined, '')).toThrow('reports no DNS name');
  });

  test('the CA bundle holds every CA the instance lists, once, as PEM', () => {
    expect(caBundle([{ cert: 'A\n' }, { cert: 'B' }, { cert: 'A' }])).toBe('A\nB\n');
    expect(() => caBundle([])).toThrow('lists no server CA certificate');
  });

  test('database URLs: verify-full always, the password URL-encoded', () => {
    expect(postgresUrl('scim_bridge', 'h.sql.goog', 'scim_bridge')).toBe('postgres://scim_bridge@h.sql.goog:5432/scim_bridge?sslmode=verify-full');
    expect(postgresUrl('admin', 'h', 'db', 'p@ss/w:rd')).toBe('postgres://admin:p%40ss%2Fw%3Ard@h:5432/db?sslmode=verify-full');
  });

  test('the bootstrap execution token is short and changes with any of its inputs', () => {
    expect(executionToken('image@sha256:1', 'v1')).toMatch(/^[0-9a-f]{12}$/);
    expect(executionToken('image@sha256:1', 'v1')).toBe(executionToken('image@sha256:1', 'v1'));
    expect(executionToken('image@sha256:1', 'v2')).not.toBe(executionToken('image@sha256:1', 'v1'));
  });
});

describe('front door records', () => {
  test('a domain mapping at an apex asks for A and AAAA records, given without trailing dots', () => {
    const records = trafficRecords('example.com', 'domainMapping', undefined, [
      { type: 'A', rrdata: '216.239.32.21' },
      { type: 'AAAA', rrdata: '2001:4860:4802:32::15' },
    ]);
    expect(records.map((r) => [r.type, r.value])).toEqual([
      ['A', '216.239.32.21'],
      ['AAAA', '2001:4860:4802:32::15'],
    ]);
    expect(trafficRecords('scim.example.com', 'domainMapping', undefined, [{ type: 'CNAME', rrdata: 'ghs.googlehosted.com.' }])[0].value).toBe(
      'ghs.googlehosted.com',
    );
  });

  test('the domain must sit in the zone, and a domain mapping (a CNAME) cannot use its apex', () => {
    expect(() => checkDomainInZone('scim.example.com', 'example.com.', 'domainMapping')).not.toThrow();
    expect(() => checkDomainInZone('example.com', 'Example.com.', 'loadBalancer')).not.toThrow();
    expect(() => checkDomainInZone('scim.example.org', 'example.com.', 'loadBalancer')).toThrow(/not inside the Cloud DNS zone example\.com\./);
    expect(() => checkDomainInZone('badexample.com', 'example.com.', 'loadBalancer')).toThrow(/not inside/);
    expect(() => checkDomainInZone('example.com', 'example.com.', 'domainMapping')).toThrow(/apex/);
  });
});

// A KEEP policy alone deletes nothing; Artifact Registry deletes what a DELETE policy matches unless a KEEP policy
// also matches it (cloud.google.com/artifact-registry/docs/repositories/cleanup-policy).
test('Artifact Registry cleanup: something is deleted, and the newest versions are kept', () => {
  expect(CLEANUP_POLICIES.some((p) => p.action === 'DELETE' && p.condition)).toBe(true);
  expect(CLEANUP_POLICIES.find((p) => p.action === 'KEEP')?.mostRecentVersions?.keepCount).toBeGreaterThanOrEqual(2);
});
