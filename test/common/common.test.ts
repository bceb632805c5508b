/** The cloud-neutral layer: defaults applied once, every problem naming its arg, unresolved values passed through. */
import { BRIDGE_ENV, BRIDGE_PATHS, BRIDGE_PROBES, BRIDGE_SIZING } from '../../contract';
import { readConfig } from '../../bridge/src/config';
import {
  ArgError,
  type PlatformRules,
  bridgeEnvironment,
  PUBLIC_CA_ROOTS,
  connectionBudget,
  inZone,
  postgresUrl,
  nameInZone,
  nextSteps,
  probePlan,
  resolveBridgeArgs,
} from '../../constructs/common';

const TOKEN = '${Token[TOKEN.123]}';
const rules: PlatformRules = { component: 'ScimBridgeTest', isUnresolved: (v) => v === TOKEN || v === -1.8881545897087626e289 };

describe('resolveBridgeArgs', () => {
  test('applies the contract defaults once', () => {
    const r = resolveBridgeArgs({ domain: 'scim.example.com' }, rules);
    expect(r).toMatchObject({
      minReplicas: BRIDGE_SIZING.minReplicas,
      maxReplicas: BRIDGE_SIZING.maxReplicas,
      cpu: BRIDGE_SIZING.cpu,
      memoryMiB: BRIDGE_SIZING.memoryMiB,
      logLevel: 'info',
      usernameFormat: 'email',
      deletionProtection: true,
      database: { version: '17', backupRetentionDays: 7, highAvailability: false },
      tags: { app: 'scim-bridge' },
    });
    expect(resolveBridgeArgs({ domain: 'scim.example.com', minReplicas: 8 }, rules).maxReplicas).toBe(8);
    expect(resolveBridgeArgs({ domain: 'a.example.com' }, { ...rules, minCpu: 1 }).cpu).toBe(1);
  });

  test.each([
    [{ domain: 'https://scim.example.com' }, 'ScimBridgeTest: domain must be a host name'],
    [{ domain: 'scim.example.com.' }, 'domain must be a host name'],
    [{ domain: 'scim.example.com', minReplicas: 3, maxReplicas: 2 }, 'maxReplicas must be at least minReplicas (3), got 2'],
    [{ domain: 'scim.example.com', minReplicas: 1.5 }, 'minReplicas must be a whole number'],
    [{ domain: 'scim.example.com', cpu: 0.1 }, 'cpu must be a number from 0.25'],
    [{ domain: 'scim.example.com', allowedDomains: ['example.com', 'not a domain'] }, 'allowedDomains[1] must be an email domain'],
    [{ domain: 'scim.example.com', logLevel: 'loud' as never }, 'logLevel must be one of debug, info, warn, error'],
    [{ domain: 'scim.example.com', database: { version: '12' as never } }, 'database.version must be one of 15, 16, 17'],
    [{ domain: 'scim.example.com', database: { backupRetentionDays: 0 } }, 'database.backupRetentionDays must be a whole number from 1 to 35'],
    [{ domain: 'scim.example.com', tags: { Team: 'x' } }, 'tags.Team must be a key'],
    [{ domain: 'scim.example.com', googleWorkspace: { adminEmail: 'admin', groups: ['g@example.com'] } }, 'googleWorkspace.adminEmail'],
    [{ domain: 'scim.example.com', googleWorkspace: { adminEmail: 'a@example.com', groups: [] } }, 'googleWorkspace.groups must name at least one'],
    [{ domain: 'scim.example.com', schemaExtensions: [{ id: 'acme', attributes: [{ name: 'a' }] }] }, `schemaExtensions[0].id must be the extension's URN`],
    [{ domain: 'scim.example.com', schemaExtensions: [{ id: 'urn:acme:x:User' }] }, 'schemaExtensions[0].attributes must be a non-empty array'],
    [{ domain: 'scim.example.com', undeclaredExtensions: 'drop' as never }, 'undeclaredExtensions must be one of refuse, keep'],
  ])('refuses %j naming the arg', (args, message) => {
    expect(() => resolveBridgeArgs(args, rules)).toThrow(ArgError);
    expect(() => resolveBridgeArgs(args, rules)).toThrow(message);
  });

  test('skips values that are not known yet (a CfnParameter, a Pulumi output) instead of refusing them', () => {
    const numberToken = -1.8881545897087626e289; // how CDK encodes a number token
    const r = resolveBridgeArgs({ domain: TOKEN, maxReplicas: numberToken, minReplicas: 3 }, rules);
    expect(r.domain).toBe(TOKEN);
    expect(r.maxReplicas).toBe(numberToken);
  });

  test('a platform without scale to zero refuses minReplicas 0', () => {
    expect(() => resolveBridgeArgs({ domain: 'scim.example.com', minReplicas: 0 }, { ...rules, requiresOneReplica: true })).toThrow(
      'minReplicas must be a whole number from 1',
    );
  });
});

test('bridgeEnvironment: safe defaults on every cloud, no secret, settings under their contract names', () => {
  const r = resolveBridgeArgs(
    {
      domain: 'scim.example.com',
      allowedDomains: ['Example.com'],
      googleWorkspace: { adminEmail: 'admin@example.com', groups: ['eng@example.com', 'ops@example.com'] },
    },
    rules,
  );
  const env = bridgeEnvironment(r, { trustProxy: 1 });
  expect(env).toMatchObject({
    [BRIDGE_ENV.metricsRequireToken]: 'true',
    [BRIDGE_ENV.trustProxy]: '1',
    [BRIDGE_ENV.allowedDomains]: 'example.com',
    [BRIDGE_ENV.googleGroups]: 'eng@example.com,ops@example.com',
    [BRIDGE_ENV.googleSyncIntervalSeconds]: '600',
    [BRIDGE_ENV.port]: '3002',
  });
  expect(bridgeEnvironment(r, { trustProxy: ['10.0.0.0/8'], platformSetsPort: true })).not.toHaveProperty(BRIDGE_ENV.port);
  expect(() => bridgeEnvironment(r, { trustProxy: [] })).toThrow('trustProxy');
  expect(Object.keys(env).some((k) => /SESSION|PASSWORD|CREDENTIALS$/.test(k))).toBe(false);
});

test('probePlan: shallow liveness, deep startup and readiness, timeouts below periods, the grace period kept', () => {
  const plan = probePlan();
  expect(plan.liveness.path).toBe(BRIDGE_PATHS.liveness);
  expect(plan.readiness.path).toBe(BRIDGE_PATHS.readiness);
  expect(plan.startup.path).toBe(BRIDGE_PATHS.readiness);
  for (const probe of Object.values(plan)) expect(probe.timeoutSeconds).toBeLessThan(probe.periodSeconds);
  expect(plan.liveness.successThreshold).toBe(1);
  expect(plan.startup.periodSeconds * plan.startup.failureThreshold).toBeGreaterThanOrEqual(BRIDGE_PROBES.startupGraceSeconds);
  const capped = probePlan({ maxFailureThreshold: 10 });
  expect(capped.startup.failureThreshold).toBe(10);
  expect(capped.startup.periodSeconds * capped.startup.failureThreshold).toBeGreaterThanOrEqual(BRIDGE_PROBES.startupGraceSeconds);
});

test('dns helpers and nextSteps', () => {
  expect(inZone('scim.example.com', 'example.com.')).toBe(true);
  expect(inZone('scim.example.org', 'example.com')).toBe(false);
  expect(nameInZone('scim.example.com', 'example.com')).toBe('scim');
  expect(nameInZone('example.com.', 'example.com')).toBe('@');
  const text = nextSteps({
    baseUrl: 'https://scim.example.com/scim/v2',
    loadSession: 'pulumi config set --secret scimSession < scimsession',
    dnsToCreate: [{ name: 'scim.example.com', type: 'CNAME', value: 'app.ondigitalocean.app', purpose: 'traffic' }],
  });
  expect(text).toContain('scim.example.com CNAME app.ondigitalocean.app (traffic)');
  expect(text).toContain('scim-bridge doctor https://scim.example.com');
});

test('connectionBudget: old and new replicas of a rolling deploy at once, plus the bootstrap step', () => {
  expect(connectionBudget(6, 100, 3, 5)).toEqual({ peak: 61, available: 97, fits: true });
  expect(connectionBudget(10, 25, 3, 5).fits).toBe(false);
});

test('postgresUrl: verify-full with the given roots, credentials encoded, no password unless given', () => {
  const app = postgresUrl({ host: 'db.example.com', database: 'scim_bridge', user: 'scim_bridge', sslrootcert: PUBLIC_CA_ROOTS });
  expect(app).toBe('postgres://scim_bridge@db.example.com:5432/scim_bridge?sslmode=verify-full&sslrootcert=system');
  const admin = postgresUrl({ host: 'db', port: 6432, database: 'd', user: 'ad@min', password: 'p/w:@?', sslrootcert: '/app/certs/ca.pem' });
  expect(admin).toBe('postgres://ad%40min:p%2Fw%3A%40%3F@db:6432/d?sslmode=verify-full&sslrootcert=/app/certs/ca.pem');
  // What a driver reads back is what went in.
  const parsed = new URL(admin);
  expect(decodeURIComponent(parsed.password)).toBe('p/w:@?');
  expect(parsed.searchParams.get('sslrootcert')).toBe('/app/certs/ca.pem');
});

test('bridgeEnvironment: declared schema extensions reach the bridge as JSON it accepts', () => {
  // The kit never imports the bridge; this test holds the two to the same vocabulary.
  const extension = { id: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User', attributes: [{ name: 'costCenter', type: 'string' }] };
  const r = resolveBridgeArgs({ domain: 'scim.example.com', schemaExtensions: [extension], undeclaredExtensions: 'keep' }, rules);
  const env = bridgeEnvironment(r, { trustProxy: 1 });
  expect(env[BRIDGE_ENV.undeclaredExtensions]).toBe('keep');
  const config = readConfig(env);
  expect(config.extensions.declared.map((d) => d.schema.id)).toEqual([extension.id]);
  expect(config.extensions.undeclared).toBe('keep');
  const none = bridgeEnvironment(resolveBridgeArgs({ domain: 'scim.example.com' }, rules), { trustProxy: 1 });
  expect(none[BRIDGE_ENV.schemaExtensions]).toBeUndefined();
  expect(none[BRIDGE_ENV.undeclaredExtensions]).toBeUndefined();
});
