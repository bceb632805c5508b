/**
 * The DigitalOcean stack with non-default settings: autoscaling one switch away (and the sizes it needs), sizes from
 * the shared cpu/memoryMiB, the database sized for the connection peak, a DigitalOcean DNS zone, given images (the
 * daemonless path for pipelines), an existing registry, Google Workspace, alert addresses, a high-availability database.
 */
import { BRIDGE_ENV } from '../../contract';
import { CONNECTIONS_PER_GIB, RESERVED_CONNECTIONS, databaseMemoryGiB } from '../../constructs/digitalocean';
import { connectionBudget } from '../../constructs/common';
import { BASE_CONFIG, GOOGLE_KEY, IMAGE_CREDENTIALS, T, envOf, jobOf, runDigitalOceanStack, serviceOf, specOf } from './mocks';

describe('scaling', () => {
  test('autoscaling is one switch away: maxReplicas above minReplicas picks a dedicated size and CPU autoscaling', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, maxReplicas: '6' });
    expect(serviceOf(run).instanceSizeSlug).toBe('apps-d-1vcpu-1gb');
    expect(serviceOf(run).autoscaling).toEqual({ minInstanceCount: 2, maxInstanceCount: 6, metrics: { cpu: { percent: 60 } } });
    // App Platform refuses a fixed count next to autoscaling.
    expect(serviceOf(run).instanceCount).toBeUndefined();
  });

  test('the database grows with maxReplicas: the smallest size whose connections hold the rolling-deploy peak', async () => {
    for (const [max, size] of [
      ['2', 'db-s-1vcpu-1gb'],
      ['4', 'db-s-1vcpu-2gb'],
      ['6', 'db-s-2vcpu-4gb'],
      ['12', 'db-s-4vcpu-8gb'],
    ]) {
      const run = await runDigitalOceanStack({ ...BASE_CONFIG, maxReplicas: max });
      const chosen = run.one(T.cluster).inputs.size;
      expect(chosen).toBe(size);
      const budget = connectionBudget(Number(max), CONNECTIONS_PER_GIB * databaseMemoryGiB(chosen)!, RESERVED_CONNECTIONS);
      expect(budget.fits).toBe(true);
    }
  });

  test('a fixed count on a dedicated size is allowed (no autoscaling)', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, instanceSize: 'apps-d-1vcpu-2gb', minReplicas: '3', maxReplicas: '3' });
    expect(serviceOf(run).instanceSizeSlug).toBe('apps-d-1vcpu-2gb');
    expect(serviceOf(run).instanceCount).toBe(3);
    expect(serviceOf(run).autoscaling).toBeUndefined();
  });

  test('one instance: the $10 single-instance size', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, minReplicas: '1' });
    expect(serviceOf(run).instanceSizeSlug).toBe('apps-s-1vcpu-1gb-fixed');
    expect(serviceOf(run).instanceCount).toBe(1);
  });

  test('the shared cpu and memoryMiB pick the size', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, cpu: '2', memoryMiB: '3000' });
    expect(serviceOf(run).instanceSizeSlug).toBe('apps-s-2vcpu-4gb');
    const auto = await runDigitalOceanStack({ ...BASE_CONFIG, memoryMiB: '2048', maxReplicas: '4', targetCpuPercent: '50' });
    expect(serviceOf(auto).instanceSizeSlug).toBe('apps-d-1vcpu-2gb');
    expect(serviceOf(auto).autoscaling.metrics.cpu.percent).toBe(50);
  });

  test('the bootstrap job stays on the smallest size whatever the service runs', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, maxReplicas: '6' });
    expect(jobOf(run).instanceSizeSlug).toBe('apps-s-1vcpu-0.5gb');
  });
});

describe('database settings', () => {
  test('highAvailability adds a standby, on the smallest size that takes one (not db-s-1vcpu-1gb)', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, database: '{"highAvailability":true}' });
    expect(run.one(T.cluster).inputs).toMatchObject({ size: 'db-s-1vcpu-2gb', nodeCount: 2 });
  });

  test('version, size, storage, tags and a standby node for highAvailability', async () => {
    const database = JSON.stringify({ version: '16', size: 'db-s-2vcpu-4gb', storageGiB: 60, highAvailability: true });
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, database, tags: JSON.stringify({ team: 'identity' }), region: 'nyc3' });
    expect(run.one(T.cluster).inputs).toMatchObject({
      version: '16',
      size: 'db-s-2vcpu-4gb',
      storageSizeMib: '61440',
      nodeCount: 2,
      region: 'nyc3',
      tags: ['app:scim-bridge', 'team:identity'],
    });
    expect(specOf(run).region).toBe('nyc');
  });
});

describe('domain in a DigitalOcean DNS zone', () => {
  test('the zone is on the app domain, so App Platform creates the record; nothing to create by hand', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, dnsZone: 'Example.com.' });
    expect(specOf(run).domainNames).toEqual([{ name: 'scim.example.com', type: 'PRIMARY', zone: 'example.com' }]);
    expect(run.outputs.dnsRecords).toEqual([]);
    expect(run.outputs.nextSteps).toContain('App Platform creates the record for scim.example.com in the DigitalOcean zone example.com');
    expect(run.outputs.nextSteps).not.toContain('Create these DNS records');
  });
});

describe('given image (a pipeline built it once): nothing is built, no Docker needed', () => {
  const nothingBuilt = (run: Awaited<ReturnType<typeof runDigitalOceanStack>>) => {
    for (const type of [T.image, T.registry, T.credentials]) expect(run.ofType(type)).toHaveLength(0);
    expect(run.outputs.imageRef).toBeUndefined();
  };

  test.each([
    ['ghcr.io/acme/scim-bridge:1.4.2', { registryType: 'GHCR', registry: 'acme', repository: 'scim-bridge', tag: '1.4.2' }],
    ['acme/scim-bridge:1.4.2', { registryType: 'DOCKER_HUB', registry: 'acme', repository: 'scim-bridge', tag: '1.4.2' }],
    [
      `registry.digitalocean.com/acme/scim-bridge@sha256:${'0f'.repeat(32)}`,
      { registryType: 'DOCR', repository: 'scim-bridge', digest: `sha256:${'0f'.repeat(32)}` },
    ],
  ])('%s, for the service and the job', async (image, source) => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, image });
    expect(serviceOf(run).image).toEqual(source);
    expect(jobOf(run).image).toEqual(source);
    nothingBuilt(run);
  });

  test('a private GHCR image: pull credentials as a secret for both components', async () => {
    const run = await runDigitalOceanStack(
      { ...BASE_CONFIG, image: 'ghcr.io/acme/scim-bridge:1.4.2', imageCredentials: IMAGE_CREDENTIALS },
      { secretKeys: ['scimSession', 'imageCredentials'] },
    );
    expect(serviceOf(run).image.registryCredentials).toBe(IMAGE_CREDENTIALS);
    expect(jobOf(run).image.registryCredentials).toBe(IMAGE_CREDENTIALS);
  });

  test('an existing registry is used as it is, not created', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, registryName: 'acme' });
    expect(run.ofType(T.registry)).toHaveLength(0);
    expect(run.one(T.image).inputs.tags).toEqual(['registry.digitalocean.com/acme/scim-bridge:latest']);
    expect(run.outputs.registryName).toBeUndefined();
  });
});

describe('Google Workspace', () => {
  test('the plain settings from the shared environment and the key as a SECRET of the service only', async () => {
    const run = await runDigitalOceanStack(
      {
        ...BASE_CONFIG,
        googleWorkspace: JSON.stringify({ adminEmail: 'admin@example.com', groups: ['eng@example.com', 'ops@example.com'] }),
        googleCredentials: GOOGLE_KEY,
      },
      { secretKeys: ['scimSession', 'googleCredentials'] },
    );
    expect(envOf(serviceOf(run), BRIDGE_ENV.googleAdminEmail).value).toBe('admin@example.com');
    expect(envOf(serviceOf(run), BRIDGE_ENV.googleGroups).value).toBe('eng@example.com,ops@example.com');
    expect(envOf(serviceOf(run), BRIDGE_ENV.googleCredentials)).toEqual({
      key: BRIDGE_ENV.googleCredentials,
      value: GOOGLE_KEY,
      scope: 'RUN_TIME',
      type: 'SECRET',
    });
    expect(envOf(jobOf(run), BRIDGE_ENV.googleCredentials)).toBeUndefined();
  });
});

describe('alerts and other settings', () => {
  test('alert addresses go to every alert and a database CPU monitor', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, alertEmails: 'ops@example.com, sre@example.com', cpuAlertPercent: '90' });
    const to = { emails: ['ops@example.com', 'sre@example.com'] };
    expect(specOf(run).alerts).toEqual([
      { rule: 'DEPLOYMENT_FAILED', destinations: to },
      { rule: 'DOMAIN_FAILED', destinations: to },
    ]);
    expect(serviceOf(run).alerts[0]).toMatchObject({ rule: 'CPU_UTILIZATION', value: 90, destinations: to });
    expect(run.one(T.monitor).inputs).toMatchObject({
      type: 'v1/dbaas/alerts/cpu_alerts',
      value: 90,
      window: '10m',
      entities: [run.one(T.cluster).id],
      alerts: to,
    });
  });

  test('allowed domains, log level, username format, retention, trustProxy and schema extensions reach the service', async () => {
    const extensions = [{ id: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User', attributes: [{ name: 'costCenter', type: 'string' }] }];
    const run = await runDigitalOceanStack({
      ...BASE_CONFIG,
      allowedDomains: 'Example.com, example.org',
      logLevel: 'debug',
      usernameFormat: 'any',
      eventRetentionDays: '30',
      trustProxy: '2',
      schemaExtensions: JSON.stringify({ schemas: extensions }),
      undeclaredExtensions: 'keep',
    });
    const env = (key: string) => envOf(serviceOf(run), key)?.value;
    expect(env(BRIDGE_ENV.allowedDomains)).toBe('example.com,example.org');
    expect(env(BRIDGE_ENV.logLevel)).toBe('debug');
    expect(env(BRIDGE_ENV.usernameFormat)).toBe('any');
    expect(env(BRIDGE_ENV.eventRetentionDays)).toBe('30');
    expect(env(BRIDGE_ENV.trustProxy)).toBe('2');
    expect(JSON.parse(env(BRIDGE_ENV.schemaExtensions))).toEqual(extensions);
    expect(env(BRIDGE_ENV.undeclaredExtensions)).toBe('keep');
    expect(envOf(jobOf(run), BRIDGE_ENV.logLevel).value).toBe('debug');
  });

  test('app name and project', async () => {
    const run = await runDigitalOceanStack({ ...BASE_CONFIG, appName: 'idp-bridge', projectId: '00000000-0000-0000-0000-000000000000' });
    expect(specOf(run).name).toBe('idp-bridge');
    expect(run.one(T.app).inputs.projectId).toBe('00000000-0000-0000-0000-000000000000');
    expect(run.one(T.cluster).inputs.projectId).toBe('00000000-0000-0000-0000-000000000000');
  });
});
