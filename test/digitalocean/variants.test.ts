/**
 * The DigitalOcean stack with non-default settings: a DigitalOcean DNS zone, given images, an existing registry,
 * a fixed instance count, sizes, and the switch that sends changed secrets.
 */
import { BASE_CONFIG, IMAGE_CREDENTIALS, T, isSecretInput, redact, runDigitalOceanStack } from './harness';

const specOf = (run: Awaited<ReturnType<typeof runDigitalOceanStack>>) => run.one(T.app).inputs.spec;

describe('domain in a DigitalOcean DNS zone', () => {
  test('the zone is on the app domain, so App Platform creates the record; no record to add by hand', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, dnsZone: 'example.com' });
    expect(specOf(run).domainNames).toEqual([{ name: 'scim.example.com', type: 'PRIMARY', zone: 'example.com' }]);
    expect(run.outputs.dnsRecord).toBeUndefined();
    expect(run.outputs.nextSteps).toContain('App Platform creates the record for scim.example.com in the DigitalOcean zone example.com');
    expect(run.outputs.bridgeUrl).toBe('https://scim.example.com/scim/v2');
  });
});

describe('given image', () => {
  const noBuild = (run: Awaited<ReturnType<typeof runDigitalOceanStack>>) => {
    expect(run.ofType(T.image)).toHaveLength(0);
    expect(run.ofType(T.registry)).toHaveLength(0);
    expect(run.ofType(T.credentials)).toHaveLength(0);
  };

  test('GHCR: owner as registry, by tag; nothing is built', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, image: 'ghcr.io/acme/scim-bridge:1.4.2' });
    expect(specOf(run).services[0].image).toEqual({ registryType: 'GHCR', registry: 'acme', repository: 'scim-bridge', tag: '1.4.2' });
    noBuild(run);
  });

  test('Docker Hub: namespace as registry', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, image: 'acme/scim-bridge:1.4.2' });
    expect(specOf(run).services[0].image).toEqual({ registryType: 'DOCKER_HUB', registry: 'acme', repository: 'scim-bridge', tag: '1.4.2' });
    noBuild(run);
  });

  test('DOCR: registry left empty, by digest', async () => {
    const digest = `sha256:${'0f'.repeat(32)}`;
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, image: `registry.digitalocean.com/acme/scim-bridge@${digest}` });
    expect(specOf(run).services[0].image).toEqual({ registryType: 'DOCR', repository: 'scim-bridge', digest });
    noBuild(run);
  });

  test('private GHCR image: pull credentials as a secret, ignored on updates like the scimsession', async () => {
    const run = await runDigitalOceanStack(
      { ...BASE_CONFIG, image: 'ghcr.io/acme/scim-bridge:1.4.2', imageCredentials: IMAGE_CREDENTIALS },
      ['scimSession', 'imageCredentials'],
    );
    const app = run.one(T.app);
    expect(app.inputs.spec.services[0].image.registryCredentials).toBe(IMAGE_CREDENTIALS);
    expect(isSecretInput(app.wire.spec.services[0].image.registryCredentials)).toBe(true);
    expect(JSON.stringify(redact(app.wire))).not.toContain('ghp_');
    expect(app.ignoreChanges).toEqual(['spec.envs', 'spec.services[0].image.registryCredentials']);
  });
});

describe('registry', () => {
  test('an existing registry is used as is, not created', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, registryName: 'acme' });
    expect(run.ofType(T.registry)).toHaveLength(0);
    expect(run.one(T.credentials).inputs.registryName).toBe('acme');
    expect(run.one(T.image).inputs.tags).toEqual(['registry.digitalocean.com/acme/scim-bridge:latest']);
    expect(run.outputs.registryName).toBeUndefined();
  });

  test('a new registry on the configured tier', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, registryTier: 'basic' });
    expect(run.one(T.registry).inputs.subscriptionTierSlug).toBe('basic');
  });
});

describe('sizes', () => {
  test('minReplicas = maxReplicas: a fixed count, allowed on a shared-CPU size, no autoscaling', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, instanceSize: 'apps-s-1vcpu-1gb', minReplicas: '2', maxReplicas: '2' });
    const service = specOf(run).services[0];
    expect(service.instanceSizeSlug).toBe('apps-s-1vcpu-1gb');
    expect(service.instanceCount).toBe(2);
    expect(service.autoscaling).toBeUndefined();
  });

  test('configured bounds, CPU target, alert threshold and database', async () => {
    const run = await runDigitalOceanStack({
      ...BASE_CONFIG,
      region: 'nyc3',
      instanceSize: 'apps-d-2vcpu-4gb',
      minReplicas: '3',
      maxReplicas: '12',
      targetCpuPercent: '50',
      cpuAlertPercent: '90',
      databaseSize: 'db-s-2vcpu-4gb',
      databaseNodes: '2',
      postgresVersion: '16',
      alertEmail: 'ops@example.com, sre@example.com',
      allowedDomains: 'Example.com, example.org',
    });
    const spec = specOf(run);
    expect(spec.region).toBe('nyc');
    expect(spec.services[0].instanceSizeSlug).toBe('apps-d-2vcpu-4gb');
    expect(spec.services[0].autoscaling).toEqual({ minInstanceCount: 3, maxInstanceCount: 12, metrics: { cpu: { percent: 50 } } });
    expect(spec.services[0].alerts[0]).toMatchObject({ rule: 'CPU_UTILIZATION', value: 90, destinations: { emails: ['ops@example.com', 'sre@example.com'] } });
    expect(spec.alerts[0].destinations.emails).toEqual(['ops@example.com', 'sre@example.com']);
    expect(spec.services[0].envs).toContainEqual({ key: 'SCIM_ALLOWED_DOMAINS', value: 'example.com,example.org', scope: 'RUN_TIME', type: 'GENERAL' });
    expect(run.one(T.cluster).inputs).toMatchObject({ region: 'nyc3', size: 'db-s-2vcpu-4gb', nodeCount: 2, version: '16' });
    expect(run.one(T.monitor).inputs.value).toBe(90);
  });
});

describe('changing the scimsession', () => {
  test('applySecretChanges=true lifts the ignore for that update and the next steps say to remove it', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, applySecretChanges: 'true' });
    expect(run.one(T.app).ignoreChanges).toEqual([]);
    expect(specOf(run).envs[0]).toMatchObject({ key: 'SCIM_SESSION', type: 'SECRET' });
    expect(run.outputs.nextSteps).toContain('pulumi config rm applySecretChanges -s digitalocean');
  });
});
