/**
 * The DigitalOcean stack with its defaults (image built from bridge/, a new registry, domain outside DigitalOcean DNS):
 * every promise of issue 6 checked on the inputs the engine receives.
 */
import * as path from 'node:path';
import { BRIDGE_ENV, BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import {
  BASE_CONFIG,
  DEFAULT_HOST,
  DIGEST,
  PUSH_TOKEN,
  PUSH_USER,
  Run,
  SESSION,
  T,
  isSecretInput,
  redact,
  runDigitalOceanStack,
} from './harness';

const REPO_ROOT = path.resolve(__dirname, '../..');

let run: Run;
beforeAll(async () => {
  run = await runDigitalOceanStack(BASE_CONFIG);
});

const app = () => run.one(T.app);
const spec = () => app().inputs.spec;
const service = () => spec().services[0];
const serviceEnv = (key: string) => service().envs.find((e: { key: string }) => e.key === key);
const cluster = () => run.one(T.cluster);

describe('App Platform service', () => {
  test('one service on the contract port, in the App Platform region of the configured datacenter', () => {
    expect(spec().region).toBe('fra');
    expect(spec().services).toHaveLength(1);
    expect(service().httpPort).toBe(BRIDGE_PORT);
    expect(serviceEnv(BRIDGE_ENV.port)).toMatchObject({ value: String(BRIDGE_PORT), type: 'GENERAL' });
    expect(spec().ingress.rules).toEqual([{ component: { name: service().name }, match: { path: { prefix: '/' } } }]);
  });

  test('readiness on /health, liveness (which restarts instances) on /ping, both on the contract port', () => {
    expect(service().healthCheck).toMatchObject({ httpPath: BRIDGE_PATHS.readiness, port: BRIDGE_PORT });
    expect(service().livenessHealthCheck).toMatchObject({ httpPath: BRIDGE_PATHS.liveness, port: BRIDGE_PORT, successThreshold: 1 });
    // A restart must not hit an instance still starting.
    expect(service().livenessHealthCheck.initialDelaySeconds).toBeGreaterThanOrEqual(60);
  });

  test('a dedicated-CPU size autoscaling between the contract bounds on the contract CPU target', () => {
    expect(service().instanceSizeSlug).toBe('apps-d-1vcpu-1gb');
    expect(service().autoscaling).toEqual({
      minInstanceCount: BRIDGE_SIZING.minReplicas,
      maxInstanceCount: BRIDGE_SIZING.maxReplicas,
      metrics: { cpu: { percent: BRIDGE_SIZING.targetCpuPercent } },
    });
    // App Platform refuses a fixed count next to autoscaling.
    expect(service().instanceCount).toBeUndefined();
  });

  test('SIGTERM grace from the contract', () => {
    expect(service().termination.gracePeriodSeconds).toBe(BRIDGE_SIZING.shutdownGraceSeconds);
  });
});

describe('scimsession as an encrypted app secret', () => {
  test('SCIM_SESSION is a SECRET, run-time only app env, and the only app-level env', () => {
    expect(spec().envs).toEqual([{ key: BRIDGE_ENV.session, value: SESSION, type: 'SECRET', scope: 'RUN_TIME' }]);
    expect(serviceEnv(BRIDGE_ENV.session)).toBeUndefined();
  });

  test('its value reaches the engine as a Pulumi secret', () => {
    expect(isSecretInput(app().wire.spec.envs[0].value)).toBe(true);
  });

  test('App Platform returns it encrypted, so updates ignore that path (no perpetual diff)', () => {
    expect(app().ignoreChanges).toEqual(['spec.envs']);
  });

  test('no resource input holds the scimsession or the push token outside a secret', () => {
    // They are there, inside secrets: the check below looks at what plain state could show.
    expect(JSON.stringify(app().wire)).toContain('c2FsdA');
    expect(JSON.stringify(run.one(T.image).wire)).toContain(PUSH_TOKEN);
    for (const r of run.resources) {
      const plain = JSON.stringify(redact(r.wire));
      expect(plain).not.toContain('c2FsdA');
      expect(plain).not.toContain(PUSH_TOKEN);
    }
  });
});

describe('Managed PostgreSQL', () => {
  test('a pg cluster of the current major version in the same datacenter, default size and one node', () => {
    expect(cluster().inputs).toMatchObject({ engine: 'pg', version: '17', region: 'fra1', size: 'db-s-1vcpu-2gb', nodeCount: 1 });
  });

  test('a database and a login role of its own for the bridge', () => {
    expect(run.one(T.db).inputs).toEqual({ clusterId: cluster().id, name: 'scim_bridge' });
    expect(run.one(T.user).inputs).toEqual({ clusterId: cluster().id, name: 'scim_bridge' });
  });

  test('attached to the app as a production database component with that database and role', () => {
    expect(spec().databases).toEqual([
      { name: 'db', engine: 'PG', production: true, clusterName: 'scim-bridge-pg-a1b2c3d', dbName: 'scim_bridge', dbUser: 'scim_bridge' },
    ]);
  });

  test('the connection string is a bind variable of that component, and TLS is required', () => {
    expect(serviceEnv(BRIDGE_ENV.databaseUrl)).toEqual({ key: BRIDGE_ENV.databaseUrl, value: '${db.DATABASE_URL}', scope: 'RUN_TIME', type: 'GENERAL' });
    expect(serviceEnv(BRIDGE_ENV.pgSslMode)).toMatchObject({ value: 'require' });
    // No database password passes through the program.
    expect(JSON.stringify(service().envs)).not.toContain('postgres');
  });

  test('the firewall admits the app and nothing else', () => {
    expect(run.one(T.firewall).inputs).toEqual({ clusterId: cluster().id, rules: [{ type: 'app', value: app().id }] });
  });
});

describe('custom domain outside DigitalOcean DNS', () => {
  test('the primary domain, no zone: App Platform issues the certificate once the CNAME resolves', () => {
    expect(spec().domainNames).toEqual([{ name: 'scim.example.com', type: 'PRIMARY' }]);
  });

  test('the CNAME to add is an output, pointing at the default ingress host with a trailing dot', () => {
    expect(run.outputs.dnsRecord).toEqual({ type: 'CNAME', name: 'scim.example.com', value: `${DEFAULT_HOST}.` });
    expect(run.outputs.nextSteps).toContain(`scim.example.com. CNAME ${DEFAULT_HOST}.`);
  });

  test('bridgeUrl is the SCIM base URL on the custom domain, without a trailing slash', () => {
    expect(run.outputs.bridgeUrl).toBe('https://scim.example.com/scim/v2');
    expect(run.outputs.nextSteps).toContain(run.outputs.bridgeUrl);
    expect(run.outputs.nextSteps).toContain('pulumi config set --secret scimSession');
    expect(run.outputs.appUrl).toBe(`https://${DEFAULT_HOST}`);
  });
});

describe('alerts by email', () => {
  test('deployment and domain failures', () => {
    expect(spec().alerts).toEqual([
      { rule: 'DEPLOYMENT_FAILED', destinations: { emails: ['ops@example.com'] } },
      { rule: 'DOMAIN_FAILED', destinations: { emails: ['ops@example.com'] } },
    ]);
  });

  test('high CPU on the service, above the autoscaling target', () => {
    expect(service().alerts).toEqual([
      { rule: 'CPU_UTILIZATION', operator: 'GREATER_THAN', value: 80, window: 'TEN_MINUTES', destinations: { emails: ['ops@example.com'] } },
    ]);
    expect(service().alerts[0].value).toBeGreaterThan(BRIDGE_SIZING.targetCpuPercent);
  });

  test('high CPU on the database cluster', () => {
    expect(run.one(T.monitor).inputs).toMatchObject({
      type: 'v1/dbaas/alerts/cpu_alerts',
      compare: 'GreaterThan',
      value: 80,
      window: '10m',
      entities: [cluster().id],
      alerts: { emails: ['ops@example.com'] },
      enabled: true,
    });
  });
});

describe('image built from bridge/ and pushed to DigitalOcean Container Registry', () => {
  test('a new registry on the free tier, and push credentials for it', () => {
    expect(run.one(T.registry).inputs).toEqual({ subscriptionTierSlug: 'starter' });
    expect(run.one(T.credentials).inputs).toMatchObject({ registryName: 'scim-bridge-registry-9f8e7d6', write: true });
    expect(run.one(T.credentials).inputs.expirySeconds).toBeLessThanOrEqual(31 * 24 * 3600);
  });

  test('built with the repository root as context and bridge/Dockerfile, for amd64, pushed to the registry', () => {
    const image = run.one(T.image).inputs;
    expect(image.context).toEqual({ location: REPO_ROOT });
    expect(image.dockerfile).toEqual({ location: path.join(REPO_ROOT, 'bridge/Dockerfile') });
    expect(image.platforms).toEqual(['linux/amd64']);
    expect(image.push).toBe(true);
    expect(image.tags).toEqual(['registry.digitalocean.com/scim-bridge-registry-9f8e7d6/scim-bridge:latest']);
  });

  test('logs in with the decoded push credentials, kept secret', () => {
    const registries = run.one(T.image).wire.registries;
    expect(isSecretInput(registries[0].password)).toBe(true);
    expect(run.one(T.image).inputs.registries).toEqual([{ address: 'registry.digitalocean.com', username: PUSH_USER, password: PUSH_TOKEN }]);
  });

  test('the app runs that build by digest from DOCR (registry left empty, as App Platform requires)', () => {
    expect(service().image).toEqual({ registryType: 'DOCR', repository: 'scim-bridge', digest: DIGEST });
    expect(run.outputs.imageRef).toContain(DIGEST);
  });
});
