/**
 * A bad stack configuration fails before anything is registered, with one line that names the `scim-bridge:` key
 * (shared keys under their shared names, DigitalOcean's under its own).
 */
import { BASE_CONFIG, GOOGLE_KEY, IMAGE_CREDENTIALS, configFailure } from './mocks';

const without = (key: string) => Object.fromEntries(Object.entries(BASE_CONFIG).filter(([k]) => k !== key));

test.each([
  ['domain', /^scim-bridge:domain is required/],
  ['region', /^scim-bridge:region is required/],
  ['scimSession', /^scim-bridge:scimSession is required: npx scim-bridge session create/],
])('missing %s', async (key, message) => {
  expect(await configFailure(without(key))).toMatch(message);
});

describe('secrets must be Pulumi secrets', () => {
  test.each([
    [BASE_CONFIG, [], /^scim-bridge:scimSession must be set as a secret/],
    [
      { ...BASE_CONFIG, image: 'ghcr.io/acme/scim-bridge:1', imageCredentials: IMAGE_CREDENTIALS },
      ['scimSession'],
      /^scim-bridge:imageCredentials must be set as a secret/,
    ],
    [{ ...BASE_CONFIG, googleCredentials: GOOGLE_KEY }, ['scimSession'], /^scim-bridge:googleCredentials must be set as a secret/],
  ])('%#', async (config, secretKeys, message) => {
    expect(await configFailure(config, { secretKeys })).toMatch(message);
  });
});

test.each([
  [{ domain: 'https://scim.example.com/' }, /^scim-bridge:domain must be a host name/],
  [{ dnsZone: 'example.org' }, /^scim-bridge:dnsZone must contain domain scim.example.com/],
  [{ region: 'fra' }, /^scim-bridge:region must be a datacenter slug/],
  [{ region: 'xyz1' }, /^scim-bridge:region must be a datacenter slug/],
  [{ alertEmails: 'ops@example.com, nobody' }, /^scim-bridge:alertEmails must be email addresses of team members \(not "nobody"\)/],
  [{ minReplicas: '0' }, /^scim-bridge:minReplicas must be a whole number from 1 to 250, got 0/],
  [{ minReplicas: '4', maxReplicas: '3' }, /^scim-bridge:maxReplicas must be at least minReplicas \(4\), got 3/],
  [{ maxReplicas: '251' }, /^scim-bridge:maxReplicas must be a whole number from 1 to 250/],
  [{ instanceSize: 'apps-x-huge' }, /^scim-bridge:instanceSize must be an App Platform instance size/],
  [{ instanceSize: 'apps-s-1vcpu-0.5gb' }, /^scim-bridge:instanceSize runs one instance only on App Platform, and maxReplicas is 2/],
  [{ instanceSize: 'apps-s-1vcpu-1gb', memoryMiB: '2048' }, /^scim-bridge:instanceSize apps-s-1vcpu-1gb has 1 vCPU and 1024 MiB, less than/],
  [{ memoryMiB: '65536' }, /^scim-bridge:memoryMiB \(65536\) and cpu \(1\) exceed every App Platform instance size/],
  [{ cpu: '0.1' }, /^scim-bridge:cpu must be a number from 1/],
  [{ targetCpuPercent: '101' }, /^scim-bridge:targetCpuPercent must be a whole number/],
  [{ cpuAlertPercent: '101' }, /^scim-bridge:cpuAlertPercent must be a whole number from 10 to 100/],
  [{ database: '{"version":"12"}' }, /^scim-bridge:database.version must be one of 15, 16, 17/],
  [{ database: '{"size":"large"}' }, /^scim-bridge:database.size must be a Managed Database size slug/],
  [{ database: '{"backupRetentionDays":14}' }, /^scim-bridge:database.backupRetentionDays must be 7: DigitalOcean keeps every cluster's backups/],
  [{ database: '{"size":"db-s-1vcpu-1gb","highAvailability":true}' }, /^scim-bridge:database.highAvailability needs a database size above db-s-1vcpu-1gb/],
  [{ registryTier: 'free' }, /^scim-bridge:registryTier must be one of starter, basic, professional/],
  [{ image: 'quay.io/acme/scim-bridge:1' }, /^scim-bridge:image is on quay.io, which App Platform cannot pull from/],
  [{ image: 'ghcr.io/acme/scim-bridge:1', registryName: 'acme' }, /^scim-bridge:registryName is for building the image/],
  [{ appName: 'SCIM_bridge' }, /^scim-bridge:appName must be 2–32 lower-case letters/],
  [{ trustProxy: 'everyone' }, /^scim-bridge:trustProxy must be a number of proxy hops or CIDRs/],
  [{ logLevel: 'loud' }, /^scim-bridge:logLevel must be one of debug, info, warn, error/],
  [{ deletionProtection: 'no' }, /^scim-bridge:deletionProtection must be true or false/],
])('%j', async (change, message) => {
  expect(await configFailure({ ...BASE_CONFIG, ...change })).toMatch(message);
});

describe('the pairings DigitalOcean enforces, named with the key to change', () => {
  test('autoscaling on a shared-CPU size lists the dedicated sizes and the fixed-count alternative', async () => {
    const message = await configFailure({ ...BASE_CONFIG, instanceSize: 'apps-s-1vcpu-1gb', maxReplicas: '4' });
    expect(message).toMatch(/^scim-bridge:instanceSize is a shared-CPU size, and App Platform autoscales only dedicated-CPU sizes/);
    expect(message).toContain('apps-d-1vcpu-1gb');
    expect(message).toContain('or leave instanceSize unset');
    expect(message).toContain('set maxReplicas equal to minReplicas');
  });

  test('a database too small for the connection peak names the size that fits', async () => {
    const message = await configFailure({ ...BASE_CONFIG, maxReplicas: '6', database: '{"size":"db-s-1vcpu-1gb"}' });
    expect(message).toMatch(/^scim-bridge:database.size db-s-1vcpu-1gb has 22 client connections, but maxReplicas \(6\) needs 61 at a rolling deploy/);
    expect(message).toContain('choose db-s-2vcpu-4gb');
  });

  test('imageCredentials without a Docker Hub or GHCR image', async () => {
    const message = await configFailure({ ...BASE_CONFIG, imageCredentials: IMAGE_CREDENTIALS }, { secretKeys: ['scimSession', 'imageCredentials'] });
    expect(message).toMatch(/^scim-bridge:imageCredentials applies only to a private Docker Hub or GHCR image/);
  });

  test('googleWorkspace needs googleCredentials, and the key needs googleWorkspace', async () => {
    const workspace = JSON.stringify({ adminEmail: 'admin@example.com', groups: ['eng@example.com'] });
    expect(await configFailure({ ...BASE_CONFIG, googleWorkspace: workspace })).toMatch(/^scim-bridge:googleWorkspace needs googleCredentials/);
    expect(await configFailure({ ...BASE_CONFIG, googleCredentials: GOOGLE_KEY }, { secretKeys: ['scimSession', 'googleCredentials'] })).toMatch(
      /^scim-bridge:googleCredentials is the key of the googleWorkspace connector/,
    );
  });
});

test.each([
  ['applySecretChanges', 'true', /^scim-bridge:applySecretChanges is no longer read; use nothing: a changed scimSession or imageCredentials is always sent/],
  ['databaseSize', 'db-s-1vcpu-2gb', /^scim-bridge:databaseSize is no longer read; use database.size/],
  ['postgresVersion', '16', /^scim-bridge:postgresVersion is no longer read; use database.version/],
  ['alertEmail', 'ops@example.com', /^scim-bridge:alertEmail is no longer read; use alertEmails/],
])('a retired key (%s) fails with its replacement instead of being silently ignored', async (key, value, message) => {
  expect(await configFailure({ ...BASE_CONFIG, [key]: value })).toMatch(message);
});
