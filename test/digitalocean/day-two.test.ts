/**
 * DigitalOcean findings of issue 26 ("Day two on every cloud"):
 * - With `database.size` unset the size was picked from maxReplicas/highAvailability on every run, so scaling down
 *   picked a smaller size, and DigitalOcean refuses that: "Database nodes cannot be resized to smaller sizes due to the
 *   risk of data loss" (docs.digitalocean.com/reference/doctl/reference/databases/resize). The size the cluster runs is
 *   read back from the stack's own outputs and kept; a smaller size asked for is refused with the reason.
 * - An unset `database.version` follows the version the cluster runs, not the kit's default; a lower one is refused.
 */
import { BASE_CONFIG, T, configFailure, runDigitalOceanStack } from './mocks';

const autoscaling = (max: number) => ({ ...BASE_CONFIG, minReplicas: '2', maxReplicas: String(max) });

test('scaling down keeps the database size the first deploy chose (DigitalOcean cannot shrink a cluster)', async () => {
  const first = await runDigitalOceanStack(autoscaling(20));
  const chosen = first.one(T.cluster).inputs.size;
  expect(first.outputs.databaseSize).toBe(chosen);
  expect(chosen).not.toBe('db-s-1vcpu-1gb'); // 20 replicas need more than the smallest size's 22 connections
  const second = await runDigitalOceanStack(autoscaling(3), { previousOutputs: first.outputs });
  expect(second.one(T.cluster).inputs.size).toBe(chosen);
  expect(second.outputs.databaseSize).toBe(chosen);
  // Without the previous run the pick would have been smaller: this is what used to fail `pulumi up`.
  const fresh = await runDigitalOceanStack(autoscaling(3));
  expect(fresh.one(T.cluster).inputs.size).not.toBe(chosen);
});

test('scaling up still grows the database when the running size cannot hold the new connections', async () => {
  const small = await runDigitalOceanStack(autoscaling(3));
  const grown = await runDigitalOceanStack(autoscaling(40), { previousOutputs: small.outputs });
  expect(grown.one(T.cluster).inputs.size).not.toBe(small.one(T.cluster).inputs.size);
});

test('an explicit database.size smaller than the running one is refused, naming both sizes', async () => {
  const message = await configFailure(
    { ...BASE_CONFIG, database: '{"size":"db-s-1vcpu-2gb"}' },
    { previousOutputs: { databaseSize: 'db-s-2vcpu-4gb', databaseVersion: '17' } },
  );
  expect(message).toMatch(
    /^scim-bridge:database\.size is db-s-1vcpu-2gb, smaller than db-s-2vcpu-4gb the cluster runs: DigitalOcean cannot resize a database to a smaller size/,
  );
});

test('an unset database.version keeps the running version; a lower one is refused', async () => {
  const running = await runDigitalOceanStack(BASE_CONFIG, { previousOutputs: { databaseVersion: '16', databaseSize: 'db-s-1vcpu-2gb' } });
  expect(running.one(T.cluster).inputs.version).toBe('16');
  expect(running.outputs.databaseVersion).toBe('16');
  const upgraded = await runDigitalOceanStack({ ...BASE_CONFIG, database: '{"version":"17"}' }, { previousOutputs: running.outputs });
  expect(upgraded.one(T.cluster).inputs.version).toBe('17');
  expect(upgraded.one(T.cluster).urn).toBe(running.one(T.cluster).urn);
  expect(await configFailure({ ...BASE_CONFIG, database: '{"version":"15"}' }, { previousOutputs: running.outputs })).toMatch(
    /^scim-bridge:database\.version is 15, but the database runs PostgreSQL 16: no managed PostgreSQL downgrades/,
  );
});

test('building without the deployer’s token fails with what to set, before anything is pushed', async () => {
  const { runStack } = await import('../support/pulumi-harness');
  const { digitalOceanMocks } = await import('./mocks');
  const saved = { a: process.env.DIGITALOCEAN_TOKEN, b: process.env.DIGITALOCEAN_ACCESS_TOKEN };
  delete process.env.DIGITALOCEAN_TOKEN;
  delete process.env.DIGITALOCEAN_ACCESS_TOKEN;
  try {
    await expect(runStack(digitalOceanMocks(), { config: BASE_CONFIG, provider: { 'digitalocean:token': '' } })).rejects.toThrow(
      /needs the deployer's DigitalOcean API token to push \(digitalocean:token, or DIGITALOCEAN_TOKEN\), or give image/,
    );
    // A given image needs no token at all.
    await expect(
      runStack(digitalOceanMocks(), { config: { ...BASE_CONFIG, image: 'ghcr.io/acme/scim-bridge:1.0.0' }, provider: { 'digitalocean:token': '' } }),
    ).resolves.toBeDefined();
  } finally {
    if (saved.a !== undefined) process.env.DIGITALOCEAN_TOKEN = saved.a;
    if (saved.b !== undefined) process.env.DIGITALOCEAN_ACCESS_TOKEN = saved.b;
  }
});
