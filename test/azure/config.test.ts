/**
 * The Azure stack's configuration as a user writes it: Pulumi.azure.yaml parsed the way the CLI does (strict YAML 1.2)
 * and deployed, every key in it (set or shown commented out) one the program reads, and bad values refused before
 * anything is created, each naming the `scim-bridge:` key to fix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ArgError } from '../../constructs/common';
import { resolveAzureArgs } from '../../constructs/azure';
import { BASE, SESSION, T, runAzure } from './mocks';

const FILE = join(__dirname, '../../Pulumi.azure.yaml');

describe('Pulumi.azure.yaml', () => {
  const text = readFileSync(FILE, 'utf8');
  const doc = parseDocument(text, { strict: true, uniqueKeys: true, version: '1.2' });

  test('is strict YAML 1.2 with one `config` map of namespaced keys', () => {
    expect(doc.errors).toEqual([]);
    expect(doc.warnings).toEqual([]);
    const config = doc.toJS().config as Record<string, unknown>;
    expect(Object.keys(doc.toJS())).toEqual(['config']);
    for (const key of Object.keys(config)) expect(key).toMatch(/^scim-bridge:[a-zA-Z]+$/);
    expect(config['scim-bridge:cloud']).toBe('azure');
  });

  test('deploys as written once the scimsession secret is set, and every key it sets or shows is one the program reads', async () => {
    const config = doc.toJS().config as Record<string, unknown>;
    // The engine hands structured values to the program as JSON.
    const values = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.slice('scim-bridge:'.length), typeof v === 'string' ? v : JSON.stringify(v)]));
    const run = await runAzure({ ...values, scimSession: SESSION });
    expect(run.outputs.scimBaseUrl).toMatch(/^https:\/\/.+\/scim\/v2$/);
    expect(run.one(T.server).inputs.sku.name).toBe((config['scim-bridge:database'] as { size: string }).size);
    // Keys shown commented out count too: a user uncomments them and expects them to work.
    const shown = [...text.matchAll(/^\s*#?\s*(scim-bridge:[a-zA-Z]+):/gm)].map((m) => m[1]);
    expect(shown.length).toBeGreaterThan(20);
    for (const key of new Set([...Object.keys(config), ...shown, 'scim-bridge:scimSession', 'scim-bridge:googleCredentials'])) {
      expect(run.configRead).toContain(key);
    }
  });
});

describe('bad stack configuration names the key', () => {
  test.each([
    ['the scimsession set without --secret', { ...BASE }, [], /scim-bridge:scimSession must be set as a secret/],
    ['no scimsession', { location: 'westeurope', domain: 'scim.example.com' }, ['scimSession'], /scim-bridge:scimSession is required/],
    ['no domain', { location: 'westeurope', scimSession: SESSION }, ['scimSession'], /scim-bridge:domain is required/],
    ['the Google key set without --secret', { ...BASE, googleCredentials: '{}' }, ['scimSession'], /scim-bridge:googleCredentials must be set as a secret/],
    [
      'neither location nor resourceGroupName',
      { domain: 'scim.example.com', scimSession: SESSION },
      ['scimSession'],
      /scim-bridge:location is required when resourceGroupName is not set/,
    ],
    ['memory that is not 2 GiB per vCPU', { ...BASE, cpu: '1', memoryMiB: '1024' }, ['scimSession'], /scim-bridge:memoryMiB must be 2048/],
    [
      'a database size Azure does not offer',
      { ...BASE, database: '{"size":"B1ms"}' },
      ['scimSession'],
      /scim-bridge:database\.size must be a Flexible Server compute size/,
    ],
    [
      'a domain at the zone apex',
      { ...BASE, domain: 'example.com', dnsZone: 'example.com', dnsZoneResourceGroup: 'dns' },
      ['scimSession'],
      /scim-bridge:domain is the apex/,
    ],
  ])('refuses %s', async (_what, config, secretKeys, message) => {
    await expect(runAzure(config as Record<string, string>, secretKeys)).rejects.toThrow(message);
  });
});

describe('the Azure rules, checked once before anything is created', () => {
  const args = { domain: 'scim.example.com', location: 'westeurope', scimSession: 's' };
  const resolve = (extra: object) => resolveAzureArgs({ ...args, ...extra }, () => false);

  test.each([
    [{ cpu: 4.1, memoryMiB: 8396 }, 'cpu', 'must be 0.25 to 4 in steps of 0.25'],
    [{ cpu: 0.3, memoryMiB: 614 }, 'cpu', 'must be 0.25 to 4 in steps of 0.25'],
    [{ database: { size: 'Standard_B2s', highAvailability: true } }, 'database.highAvailability', 'needs a General Purpose or Memory Optimized size'],
    [{ database: { storageGiB: 100 } }, 'database.storageGiB', 'must be one of 32, 64'],
    [{ database: { backupRetentionDays: 3 } }, 'database.backupRetentionDays', 'must be 7 to 35'],
    [{ maxReplicas: 30 }, 'maxReplicas', '30 replicas need more connections than Standard_B1ms allows (35)'],
    [{ dnsZone: 'example.com' }, 'dnsZoneResourceGroup', 'is required with dnsZone'],
    [{ dnsZoneResourceGroup: 'dns' }, 'dnsZone', 'is required when dnsZoneResourceGroup is set'],
    [{ domain: 'scim.other.org', dnsZone: 'example.com', dnsZoneResourceGroup: 'dns' }, 'domain', 'must be inside dnsZone example.com'],
    [{ customDomainPhase: 'later' }, 'customDomainPhase', 'must be one of records, hostname, bind, auto'],
    [{ googleWorkspace: { adminEmail: 'a@example.com', groups: ['g@example.com'] } }, 'googleCredentials', 'is required with googleWorkspace'],
    [{ googleCredentials: '{}' }, 'googleWorkspace', 'is required with googleCredentials'],
    [{ appName: 'a-name-longer-than-twenty-two' }, 'appName', 'must be 2 to 22'],
    [{ logRetentionDays: 7 }, 'logRetentionDays', 'must be a whole number from 30 to 730'],
    [{ rolePropagationSeconds: -1 }, 'rolePropagationSeconds', 'must be a whole number from 0 to 1800'],
    [{ deployerPrincipalType: 'Group' }, 'deployerPrincipalType', 'must be User or ServicePrincipal'],
  ])('%j is refused naming %s', (extra, arg, message) => {
    let error: unknown;
    try {
      resolve(extra);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ArgError);
    expect((error as ArgError).arg).toBe(arg);
    expect((error as Error).message).toContain(`ScimBridgeAzure: ${arg} ${message}`);
  });

  test('pool per replica shrinks to fit the server instead of failing at the first rolling deploy', () => {
    expect(resolve({}).poolSize).toBe(2);
    expect(resolve({ maxReplicas: 17 }).poolSize).toBe(1);
    expect(resolve({ database: { size: 'Standard_B2s' } }).poolSize).toBe(5);
    // A size the table does not know keeps the default pool rather than guessing.
    expect(resolve({ database: { size: 'Standard_D2pds_v6' } }).poolSize).toBe(5);
  });

  test('a value not known until deploy (a Pulumi output) is passed through, not refused', () => {
    const unknown = { toString: () => 'output' } as unknown as number;
    const r = resolveAzureArgs({ ...args, maxReplicas: unknown }, (v) => v === unknown);
    expect(r.maxReplicas).toBe(unknown);
    expect(r.poolSize).toBe(5);
  });

  test('the lock needs deletion protection: the one switch turns both off', () => {
    expect(resolve({ managementLock: true }).lock).toBe(true);
    expect(resolve({ managementLock: true, deletionProtection: false }).lock).toBe(false);
  });
});
