/**
 * Bad stack configuration fails before any resource is registered, with one line that names the key.
 */
import { BASE_CONFIG, IMAGE_CREDENTIALS, runDigitalOceanStack } from './harness';

const without = (key: string) => Object.fromEntries(Object.entries(BASE_CONFIG).filter(([k]) => k !== key));

async function failure(config: Record<string, string>, secretKeys?: string[]): Promise<string> {
  try {
    await runDigitalOceanStack(config, secretKeys);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the stack accepted this configuration');
}

describe('required keys', () => {
  test.each([
    ['domain', /^scim-bridge:domain is required/],
    ['region', /^scim-bridge:region is required/],
    ['alertEmail', /^scim-bridge:alertEmail is required/],
    ['scimSession', /^scim-bridge:scimSession is required: npx scim-bridge session create/],
  ])('missing %s', async (key, message) => {
    expect(await failure(without(key))).toMatch(message);
  });
});

describe('secrets must be Pulumi secrets', () => {
  test('a plain scimSession is refused', async () => {
    expect(await failure(BASE_CONFIG, [])).toMatch(/^scim-bridge:scimSession must be set as a secret/);
  });

  test('plain imageCredentials are refused', async () => {
    const message = await failure({ ...BASE_CONFIG, image: 'ghcr.io/acme/scim-bridge:1', imageCredentials: IMAGE_CREDENTIALS });
    expect(message).toMatch(/^scim-bridge:imageCredentials must be set as a secret/);
  });

  test('imageCredentials without a Docker Hub or GHCR image are refused', async () => {
    const message = await failure({ ...BASE_CONFIG, imageCredentials: IMAGE_CREDENTIALS }, ['scimSession', 'imageCredentials']);
    expect(message).toMatch(/^scim-bridge:imageCredentials applies only to a private Docker Hub or GHCR image/);
  });
});

describe('invalid values', () => {
  test.each([
    [{ domain: 'https://scim.example.com/' }, /^scim-bridge:domain must be a host name/],
    [{ dnsZone: 'example.org' }, /^scim-bridge:dnsZone must contain domain scim.example.com/],
    [{ region: 'fra' }, /^scim-bridge:region must be a datacenter slug/],
    [{ region: 'xyz1' }, /^scim-bridge:region must be a datacenter slug/],
    [{ alertEmail: 'ops-at-example.com' }, /^scim-bridge:alertEmail must be email addresses.*"ops-at-example.com"/],
    [{ alertEmail: 'ops@example.com, nobody' }, /^scim-bridge:alertEmail must be email addresses.*"nobody"/],
    [{ minReplicas: '4', maxReplicas: '3' }, /^scim-bridge:maxReplicas must be at least minReplicas \(4\), got 3/],
    [{ minReplicas: '0' }, /^scim-bridge:minReplicas must be at least 1/],
    [{ maxReplicas: '251' }, /^scim-bridge:maxReplicas must be a whole number from 1 to 250/],
    [{ instanceSize: 'apps-x-huge' }, /^scim-bridge:instanceSize must be an App Platform instance size/],
    [{ targetCpuPercent: '101' }, /^scim-bridge:targetCpuPercent must be a whole number/],
    [{ databaseNodes: '4' }, /^scim-bridge:databaseNodes must be a whole number from 1 to 3/],
    [{ postgresVersion: '12' }, /^scim-bridge:postgresVersion must be one of 14, 15, 16, 17, 18/],
    [{ registryTier: 'free' }, /^scim-bridge:registryTier must be one of starter, basic, professional/],
    [{ image: 'quay.io/acme/scim-bridge:1' }, /^scim-bridge:image is on quay.io, which App Platform cannot pull from/],
    [{ image: 'ghcr.io/acme/scim-bridge:1', registryName: 'acme' }, /^scim-bridge:registryName is for building the image/],
    [{ appName: 'SCIM_bridge' }, /^scim-bridge:appName must be 2–32 lower-case letters/],
    [{ applySecretChanges: 'yes' }, /^scim-bridge:applySecretChanges must be true or false/],
  ])('%j', async (change, message) => {
    expect(await failure({ ...BASE_CONFIG, ...change })).toMatch(message);
  });

  test('autoscaling on a shared-CPU size names the key and the dedicated sizes to choose', async () => {
    const message = await failure({ ...BASE_CONFIG, instanceSize: 'apps-s-1vcpu-1gb' });
    expect(message).toMatch(/^scim-bridge:instanceSize is a shared-CPU size, and App Platform autoscales only dedicated-CPU sizes/);
    expect(message).toContain('apps-d-1vcpu-1gb');
    expect(message).toContain('set maxReplicas equal to minReplicas');
  });

  test('a database too small for maxReplicas connection pools', async () => {
    const message = await failure({ ...BASE_CONFIG, databaseSize: 'db-s-1vcpu-1gb' });
    expect(message).toMatch(/^scim-bridge:databaseSize db-s-1vcpu-1gb accepts about 22 client connections, but maxReplicas \(6\) × 5 per replica needs 30/);
  });

  test('the smaller database is fine with fewer replicas', async () => {
    await expect(runDigitalOceanStack({ ...BASE_CONFIG, databaseSize: 'db-s-1vcpu-1gb', maxReplicas: '4' })).resolves.toBeDefined();
  });
});
