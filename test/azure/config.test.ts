/** Bad stack configuration fails before anything is created, with a message that names the key. */
import { SESSION, runAzureStack } from './harness';

const base = { location: 'westeurope', scimSession: SESSION };

test.each([
  ['a scimSession set without --secret', { ...base }, [], /scim-bridge:scimSession must be set as a secret/],
  ['no scimSession', { location: 'westeurope' }, ['scimSession'], /scim-bridge:scimSession is required/],
  ['neither location nor resourceGroupName', { scimSession: SESSION }, undefined, /scim-bridge:location is required/],
  ['maxReplicas below minReplicas', { ...base, minReplicas: '4', maxReplicas: '2' }, undefined, /scim-bridge:maxReplicas must be at least minReplicas \(4\)/],
  ['a negative minReplicas', { ...base, minReplicas: '-1' }, undefined, /scim-bridge:minReplicas must be a whole number/],
  ['concurrency 0', { ...base, concurrency: '0' }, undefined, /scim-bridge:concurrency must be a whole number/],
  ['a domain that is not a host name', { ...base, domain: 'https://scim.example.com/' }, undefined, /scim-bridge:domain must be a host name/],
  ['a domain outside the zone', { ...base, domain: 'scim.other.org', dnsZoneName: 'example.com', dnsZoneResourceGroup: 'dns' }, undefined, /scim-bridge:domain must be a subdomain inside dnsZoneName/],
  ['a domain at the zone apex', { ...base, domain: 'example.com', dnsZoneName: 'example.com', dnsZoneResourceGroup: 'dns' }, undefined, /scim-bridge:domain .*apex/],
  ['a zone without its resource group', { ...base, domain: 'scim.example.com', dnsZoneName: 'example.com' }, undefined, /scim-bridge:dnsZoneResourceGroup is required/],
  ['a zone resource group without a zone', { ...base, domain: 'scim.example.com', dnsZoneResourceGroup: 'dns' }, undefined, /scim-bridge:dnsZoneName is required/],
  ['a zone without a domain', { ...base, dnsZoneName: 'example.com', dnsZoneResourceGroup: 'dns' }, undefined, /scim-bridge:domain is required/],
  ['an unknown customDomainPhase', { ...base, domain: 'scim.example.com', customDomainPhase: 'later' }, undefined, /scim-bridge:customDomainPhase must be one of records, hostname, bind, auto/],
  ['a customDomainPhase without a domain', { ...base, customDomainPhase: 'bind' }, undefined, /scim-bridge:customDomainPhase needs domain/],
  ['an unknown postgresSku', { ...base, postgresSku: 'B1ms' }, undefined, /scim-bridge:postgresSku must be a Flexible Server compute size/],
  ['a storage size Azure does not offer', { ...base, postgresStorageGb: '100' }, undefined, /scim-bridge:postgresStorageGb must be one of 32, 64/],
  ['backup retention over 35 days', { ...base, postgresBackupRetentionDays: '40' }, undefined, /scim-bridge:postgresBackupRetentionDays must be a whole number from 7 to 35/],
  ['an unsupported postgresVersion', { ...base, postgresVersion: '9.6' }, undefined, /scim-bridge:postgresVersion must be one of/],
  ['a non-boolean postgresGeoRedundantBackup', { ...base, postgresGeoRedundantBackup: 'yes' }, undefined, /scim-bridge:postgresGeoRedundantBackup must be true or false/],
])('refuses %s', async (_what, config, secretKeys, message) => {
  await expect(runAzureStack(config as Record<string, string>, secretKeys as string[] | undefined)).rejects.toThrow(message);
});

test('the same configuration with the session stored as a secret deploys', async () => {
  const run = await runAzureStack(base);
  expect(run.outputs.bridgeUrl).toMatch(/^https:\/\/.+\/scim\/v2$/);
});
