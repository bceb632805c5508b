/**
 * Bad GCP configuration fails before anything is registered, with one line that names the stack key (or, used as a
 * component, the arg).
 */
import { SESSION } from '../support/pulumi-harness';
import { BASE, DOMAIN, GOOGLE_KEY, T, runComponent, runGcpStack } from './mocks';

async function failure(config: Record<string, string>, options: { secretKeys?: string[]; provider?: Record<string, string> } = {}): Promise<string> {
  try {
    await runGcpStack({ config, ...options });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the stack to refuse this configuration');
}

describe('stack configuration errors name the key', () => {
  test.each([
    [
      'a scimsession set without --secret (so it never lands in plain state)',
      BASE,
      { secretKeys: [] },
      /^scim-bridge:scimSession must be set as a secret: pulumi config set --secret scimSession/,
    ],
    ['no scimsession at all', { domain: DOMAIN }, {}, /^scim-bridge:scimSession is required: .*scimSessionSecretId/],
    [
      'both a scimsession and an existing secret',
      { ...BASE, scimSessionSecretId: 'existing' },
      {},
      /^scim-bridge:scimSessionSecretId cannot be set together with scimSession/,
    ],
    [
      'a malformed existing secret id',
      { domain: DOMAIN, scimSessionSecretId: 'projects/x/keys/y' },
      { secretKeys: [] },
      /^scim-bridge:scimSessionSecretId must be a secret name or projects\/PROJECT\/secrets\/NAME/,
    ],
    ['no domain', { scimSession: SESSION }, {}, /^scim-bridge:domain is required/],
    ['a domain that is not a host name', { ...BASE, domain: 'https://scim.example.com/' }, {}, /^scim-bridge:domain must be a host name/],
    [
      'maxReplicas below minReplicas',
      { ...BASE, minReplicas: '4', maxReplicas: '3' },
      {},
      /^scim-bridge:maxReplicas must be at least minReplicas \(4\), got 3$/,
    ],
    ['more instances than Cloud Run allows', { ...BASE, maxReplicas: '5000' }, {}, /^scim-bridge:maxReplicas must be a whole number from 1 to 1000/],
    ['a front door that does not exist', { ...BASE, frontDoor: 'cdn' }, {}, /^scim-bridge:frontDoor must be one of loadBalancer, domainMapping \(got "cdn"\)$/],
    ['half a vCPU (Cloud Run needs one for request concurrency)', { ...BASE, cpu: '0.5' }, {}, /^scim-bridge:cpu must be a number from 1 to 64/],
    ['a vCPU count Cloud Run does not offer', { ...BASE, cpu: '3' }, {}, /^scim-bridge:cpu must be one of 1, 2, 4, 6, 8/],
    ['more memory than one vCPU may have', { ...BASE, memoryMiB: '8192' }, {}, /^scim-bridge:memoryMiB can be at most 4096 with 1 vCPU/],
    [
      'a concurrency above Cloud Run ceiling',
      { ...BASE, targetConcurrentRequests: '5000' },
      {},
      /^scim-bridge:targetConcurrentRequests must be a whole number from 1 to 1000/,
    ],
    ['a database size that is not a Cloud SQL tier', { ...BASE, database: '{"size":"small"}' }, {}, /^scim-bridge:database.size must be a Cloud SQL tier/],
    ['a PostgreSQL version the kit does not support', { ...BASE, database: '{"version":"13"}' }, {}, /^scim-bridge:database.version must be one of 15, 16, 17/],
    ['a public subnet range', { ...BASE, networkCidr: '8.8.0.0/24' }, {}, /^scim-bridge:networkCidr must be a private IPv4 range/],
    ['a subnet too small for Direct VPC egress', { ...BASE, networkCidr: '10.8.0.0/28' }, {}, /^scim-bridge:networkCidr must be \/26 or larger/],
    ['a TLS profile weaker than MODERN', { ...BASE, sslPolicyProfile: 'COMPATIBLE' }, {}, /^scim-bridge:sslPolicyProfile must be one of MODERN, RESTRICTED/],
    ['a zone given by its DNS name', { ...BASE, dnsZone: 'example.com.' }, {}, /^scim-bridge:dnsZone must be a Cloud DNS managed zone name/],
    ['dnsZoneProject without dnsZone', { ...BASE, dnsZoneProject: 'dns-project' }, {}, /^scim-bridge:dnsZoneProject needs dnsZone/],
    ['Google credentials set in plain text', { ...BASE, googleCredentials: GOOGLE_KEY }, {}, /^scim-bridge:googleCredentials must be set as a secret/],
    [
      'Google Workspace without credentials',
      { ...BASE, googleWorkspace: '{"adminEmail":"a@example.com","groups":["g@example.com"]}' },
      {},
      /^scim-bridge:googleCredentials is required with googleWorkspace/,
    ],
    [
      'Google credentials without Google Workspace',
      { ...BASE, googleCredentials: GOOGLE_KEY },
      { secretKeys: ['scimSession', 'googleCredentials'] },
      /^scim-bridge:googleCredentials is set but googleWorkspace is not/,
    ],
    ['no gcp:project', BASE, { provider: { 'gcp:project': '' } }, /^gcp:project is required/],
    ['no gcp:region', BASE, { provider: { 'gcp:region': '' } }, /^gcp:region is required/],
    ['a region that is not one', BASE, { provider: { 'gcp:region': 'Europe West' } }, /^gcp:region must be a region such as europe-west1/],
  ])('%s', async (_name, config, options, message) => {
    const text = await failure(config as Record<string, string>, options as { secretKeys?: string[] });
    expect(text).toMatch(message);
    // No configuration error repeats a secret.
    expect(text).not.toContain(SESSION);
    expect(text).not.toContain('PRIVATE KEY');
  });
});

describe('the component used directly', () => {
  test('refuses no scimsession, or both, naming the args', async () => {
    await expect(runComponent({})).rejects.toThrow('ScimBridgeGcp: scimSession or scimSessionSecretId: give exactly one');
    await expect(runComponent({ scimSession: SESSION, scimSessionSecretId: 's' })).rejects.toThrow('give exactly one');
  });

  test('a scimsession passed as a plain string still reaches Secret Manager only as a Pulumi secret', async () => {
    const run = await runComponent({ scimSession: SESSION });
    const version = run.one(T.secretVersion, 'bridge-service-scimsession');
    expect(version.inputs.secretData).toBe(SESSION);
    expect(version.raw.secretData).not.toBe(SESSION);
    expect(run.outputs.scimBaseUrl).toBe(`https://${DOMAIN}/scim/v2`);
  });

  test('a value not known until deploy (a Pulumi output) is passed through, not refused', async () => {
    const run = await runComponent({ scimSession: SESSION, maxReplicas: Promise.resolve(7) });
    expect(run.one(T.service).inputs.template.scaling.maxInstanceCount).toBe(7);
  });
});
