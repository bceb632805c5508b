/**
 * The DigitalOcean stack with its defaults (image built from bridge/, a new registry, the domain outside
 * DigitalOcean DNS), checked on what the engine receives: the service and its PRE_DEPLOY bootstrap job, the
 * database's private verified connection, the app in the database's VPC, the shared outputs.
 */
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import { BOOTSTRAP_COMMAND, DATABASE_SSLMODE } from '../../constructs/common';
import type { Run } from '../support/pulumi-harness';
import { isSecretInput, redact } from '../support/pulumi-harness';
import {
  ADMIN_PASSWORD,
  BASE_CONFIG,
  DEFAULT_HOST,
  DEFAULT_VPC,
  PRIVATE_HOST,
  PUSH_TOKEN,
  SESSION,
  T,
  appOf,
  envOf,
  jobOf,
  runDigitalOceanStack,
  serviceOf,
  specOf,
} from './mocks';

let run: Run;
beforeAll(async () => {
  run = await runDigitalOceanStack(BASE_CONFIG);
});

const cluster = () => run.one(T.cluster);
const APP_URL = `postgresql://scim_bridge@${PRIVATE_HOST}:25060/scim_bridge?sslmode=verify-full`;

describe('the bridge service', () => {
  test('one service on the contract port, in the App Platform region of the datacenter, routed at /', () => {
    expect(specOf(run).region).toBe('fra');
    expect(specOf(run).services).toHaveLength(1);
    expect(serviceOf(run).httpPort).toBe(BRIDGE_PORT);
    expect(specOf(run).ingress.rules).toEqual([{ component: { name: 'bridge' }, match: { path: { prefix: '/' } } }]);
  });

  test('readiness on /health; liveness (which restarts an instance) on the shallow /ping, after the start-up grace', () => {
    expect(serviceOf(run).healthCheck).toMatchObject({ httpPath: BRIDGE_PATHS.readiness, port: BRIDGE_PORT });
    expect(serviceOf(run).livenessHealthCheck).toMatchObject({ httpPath: BRIDGE_PATHS.liveness, port: BRIDGE_PORT, successThreshold: 1 });
    expect(serviceOf(run).livenessHealthCheck.initialDelaySeconds).toBeGreaterThanOrEqual(60);
    // Readiness allows the same grace before an instance counts as failed (App Platform has no startup probe).
    const h = serviceOf(run).healthCheck;
    expect(h.initialDelaySeconds + h.periodSeconds * h.failureThreshold).toBeGreaterThanOrEqual(60);
    expect(h.timeoutSeconds).toBeLessThan(h.periodSeconds);
  });

  test('costs sane by default: two instances of a shared size, a fixed count, no autoscaling', () => {
    expect(serviceOf(run).instanceSizeSlug).toBe('apps-s-1vcpu-1gb');
    expect(serviceOf(run).instanceCount).toBe(BRIDGE_SIZING.minReplicas);
    expect(serviceOf(run).autoscaling).toBeUndefined();
    expect(run.outputs.instanceSize).toBe('apps-s-1vcpu-1gb');
  });

  test('the shared safe defaults: metrics behind the token, one trusted X-Forwarded-For hop (App Platform edge; it also sends do-connecting-ip, mixpanel/tracking-proxy#31), pool size', () => {
    expect(envOf(serviceOf(run), BRIDGE_ENV.metricsRequireToken).value).toBe('true');
    expect(envOf(serviceOf(run), BRIDGE_ENV.trustProxy).value).toBe('1');
    expect(envOf(serviceOf(run), BRIDGE_ENV.databasePoolSize).value).toBe(String(BRIDGE_SIZING.databasePoolSize));
    expect(envOf(serviceOf(run), BRIDGE_ENV.logLevel).value).toBe('info');
  });

  test('SIGTERM grace from the contract', () => {
    expect(serviceOf(run).termination.gracePeriodSeconds).toBe(BRIDGE_SIZING.shutdownGraceSeconds);
  });

  test('the scimsession is a SECRET, run-time env of the service only, sent as a Pulumi secret', () => {
    expect(envOf(serviceOf(run), BRIDGE_ENV.session)).toEqual({ key: BRIDGE_ENV.session, value: SESSION, type: 'SECRET', scope: 'RUN_TIME' });
    const wire = appOf(run).wire.spec.services[0].envs.find((e: { key: string }) => e.key === BRIDGE_ENV.session);
    expect(isSecretInput(wire.value)).toBe(true);
    expect(envOf(jobOf(run), BRIDGE_ENV.session)).toBeUndefined();
    expect(specOf(run).envs).toBeUndefined();
  });
});

describe('the database role is bootstrapped before every deployment, with the admin credentials outside the service', () => {
  test('a PRE_DEPLOY job runs `scim-bridge db bootstrap` from the same image (the image entry point plus the arguments)', () => {
    const job = jobOf(run);
    expect(specOf(run).jobs).toHaveLength(1);
    expect(job.kind).toBe('PRE_DEPLOY');
    expect(job.runCommand).toBe([...BRIDGE_IMAGE.entrypoint, ...BOOTSTRAP_COMMAND].join(' '));
    expect(job.image).toEqual(serviceOf(run).image);
    expect(job.instanceCount).toBe(1);
  });

  test("the job holds the cluster administrator's URL for the app's database (schema grants are per database), verify-full, secret", () => {
    const admin = envOf(jobOf(run), BRIDGE_ENV.databaseAdminUrl);
    expect(admin.type).toBe('SECRET');
    const url = new URL(admin.value);
    expect(decodeURIComponent(url.username)).toBe('doadmin');
    expect(decodeURIComponent(url.password)).toBe(ADMIN_PASSWORD);
    expect(url.hostname).toBe(PRIVATE_HOST);
    expect(url.pathname).toBe('/scim_bridge');
    expect(url.searchParams.get('sslmode')).toBe(DATABASE_SSLMODE);
    const wire = appOf(run).wire.spec.jobs[0].envs.find((e: { key: string }) => e.key === BRIDGE_ENV.databaseAdminUrl);
    expect(isSecretInput(wire.value)).toBe(true);
  });

  test('the service has no admin URL and no admin password anywhere in its spec', () => {
    expect(envOf(serviceOf(run), BRIDGE_ENV.databaseAdminUrl)).toBeUndefined();
    expect(JSON.stringify(serviceOf(run))).not.toContain('doadmin');
    expect(JSON.stringify(serviceOf(run))).not.toContain(encodeURIComponent(ADMIN_PASSWORD));
  });

  test("both connect as the bridge's own role over the private host, verify-full with the cluster's CA, the password from App Platform's bind variable", () => {
    for (const component of [serviceOf(run), jobOf(run)]) {
      expect(envOf(component, BRIDGE_ENV.databaseUrl)).toEqual({ key: BRIDGE_ENV.databaseUrl, value: APP_URL, scope: 'RUN_TIME', type: 'GENERAL' });
      // App Platform fills these in at deploy time: the role's password and the cluster's CA never pass through Pulumi.
      expect(envOf(component, BRIDGE_ENV.pgPassword).value).toBe('${db.PASSWORD}');
      expect(envOf(component, BRIDGE_ENV.databaseCaCert).value).toBe('${db.CA_CERT}');
    }
    expect(JSON.stringify(specOf(run))).not.toContain('AVNS_userpassword');
  });

  test("the database component binds the bridge's database and role of the cluster", () => {
    expect(specOf(run).databases).toEqual([
      { name: 'db', engine: 'PG', production: true, clusterName: 'scim-bridge-pg-a1b2c3d', dbName: 'scim_bridge', dbUser: 'scim_bridge' },
    ]);
  });
});

describe('Managed PostgreSQL, private and admitting only the app', () => {
  test('the current major version in the datacenter, the smallest size whose connections fit the rolling-deploy peak', () => {
    expect(cluster().inputs).toMatchObject({ engine: 'pg', version: '17', region: 'fra1', size: 'db-s-1vcpu-1gb', nodeCount: 1, tags: ['app:scim-bridge'] });
  });

  test('the app joins the VPC the cluster is in', () => {
    expect(specOf(run).vpcs).toEqual([{ id: DEFAULT_VPC }]);
    expect(cluster().inputs.privateNetworkUuid).toBeUndefined();
  });

  test('a database and a login role of its own for the bridge', () => {
    expect(run.one(T.db).inputs).toEqual({ clusterId: cluster().id, name: 'scim_bridge' });
    expect(run.one(T.user).inputs).toEqual({ clusterId: cluster().id, name: 'scim_bridge' });
  });

  test('trusted sources: the app and nothing else, set once the app exists', () => {
    const firewall = run.one(T.firewall);
    expect(firewall.inputs).toEqual({ clusterId: cluster().id, rules: [{ type: 'app', value: appOf(run).id }] });
    expect(run.waitsFor(firewall, appOf(run))).toBe(true);
  });
});

describe('custom domain outside DigitalOcean DNS', () => {
  test('the primary domain without a zone', () => {
    expect(specOf(run).domainNames).toEqual([{ name: 'scim.example.com', type: 'PRIMARY' }]);
  });

  test('dnsRecords: the CNAME to the app host; nextSteps gives it in zone-file form with the trailing dots', () => {
    expect(run.outputs.dnsRecords).toEqual([{ name: 'scim.example.com', type: 'CNAME', value: DEFAULT_HOST, purpose: 'traffic' }]);
    expect(run.outputs.nextSteps).toContain(`scim.example.com. CNAME ${DEFAULT_HOST}.`);
  });

  test('scimBaseUrl is the SCIM base URL on the custom domain; nextSteps loads a scimsession without any switch', () => {
    expect(run.outputs.scimBaseUrl).toBe('https://scim.example.com/scim/v2');
    expect(run.outputs.nextSteps).toContain(run.outputs.scimBaseUrl);
    expect(run.outputs.nextSteps).toContain('pulumi config set --secret scimSession');
    expect(run.outputs.nextSteps).not.toContain('applySecretChanges');
    expect(run.outputs.appUrl).toBe(`https://${DEFAULT_HOST}`);
  });
});

describe('alerts', () => {
  test('deployment and domain failures and service CPU, to the team when no addresses are given; no database monitor without addresses', () => {
    expect(specOf(run).alerts).toEqual([{ rule: 'DEPLOYMENT_FAILED' }, { rule: 'DOMAIN_FAILED' }]);
    expect(serviceOf(run).alerts).toEqual([{ rule: 'CPU_UTILIZATION', operator: 'GREATER_THAN', value: 80, window: 'TEN_MINUTES' }]);
    expect(run.ofType(T.monitor)).toHaveLength(0);
  });
});

describe('image built from bridge/ and pushed to DigitalOcean Container Registry', () => {
  test('a new registry on the free tier, the app runs the build by digest', () => {
    expect(run.one(T.registry).inputs).toEqual({ subscriptionTierSlug: 'starter' });
    expect(serviceOf(run).image).toEqual({ registryType: 'DOCR', repository: 'scim-bridge', digest: `sha256:${'ab'.repeat(32)}` });
    expect(run.one(T.image).inputs.tags).toEqual(['registry.digitalocean.com/scim-bridge-registry-9f8e7d6/scim-bridge:latest']);
  });

  test('pushes with the deployer’s own API token read on every run, kept secret; no stored credentials that expire', () => {
    // terraform-provider-digitalocean's registry credentials expire (30 days) and renew only on a refresh: a plain
    // `pulumi up` that rebuilt the image then got 401. Nothing of the kind is kept in the state any more.
    expect(run.ofType(T.credentials)).toHaveLength(0);
    expect(isSecretInput(run.one(T.image).wire.registries[0].password)).toBe(true);
    expect(isSecretInput(run.one(T.image).wire.registries[0].username)).toBe(true);
    expect(run.one(T.image).inputs.registries[0]).toEqual({ address: 'registry.digitalocean.com', username: PUSH_TOKEN, password: PUSH_TOKEN });
  });
});

test('no input holds the scimsession, the admin password or the push token outside a Pulumi secret', () => {
  const adminInUrl = encodeURIComponent(ADMIN_PASSWORD);
  expect(JSON.stringify(appOf(run).wire)).toContain('c2FsdA'); // it is there, inside secrets
  expect(JSON.stringify(appOf(run).wire)).toContain(adminInUrl);
  for (const r of run.resources) {
    const plain = JSON.stringify(redact(r.wire));
    expect(plain).not.toContain('c2FsdA');
    expect(plain).not.toContain(adminInUrl);
    expect(plain).not.toContain(PUSH_TOKEN);
  }
  expect(run.secretOutputs).toEqual(['sealedSecrets']);
});
