/**
 * Bad GCP stack configuration fails before any resource is registered, with one line that names the key.
 */
import { checkDomainInZone, ingressFor } from '../../constructs/gcp/frontDoor';
import { BASE, SESSION, runGcpStack } from './harness';

async function failure(config: Record<string, string>, options: { secretKeys?: string[]; provider?: Record<string, string> } = {}): Promise<string> {
  try {
    await runGcpStack({ config, ...options });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the stack to refuse this configuration');
}

describe('stack configuration errors name the key', () => {
  test('a scimsession set without --secret is refused, so it never lands in plain state', async () => {
    const message = await failure(BASE, { secretKeys: [] });
    expect(message).toMatch(/^scim-bridge:scimSession must be set as a secret/);
    expect(message).toContain('pulumi config set --secret scimSession');
    expect(message).not.toContain(SESSION);
  });

  test('no scimsession at all', async () => {
    expect(await failure({ domain: 'scim.example.com' })).toMatch(/^scim-bridge:scimSession is required: .*scimSessionSecretId/);
  });

  test('both a scimsession and an existing secret', async () => {
    expect(await failure({ ...BASE, scimSessionSecretId: 'existing' })).toMatch(/^scim-bridge:scimSessionSecretId cannot be set together with scimSession/);
  });

  test('a malformed existing secret id', async () => {
    expect(await failure({ domain: 'scim.example.com', scimSessionSecretId: 'projects/x/keys/y' }, { secretKeys: [] })).toMatch(
      /^scim-bridge:scimSessionSecretId must be a secret name or projects\/PROJECT\/secrets\/NAME/,
    );
  });

  test('missing domain', async () => {
    expect(await failure({ scimSession: SESSION })).toMatch(/^scim-bridge:domain is required/);
  });

  test('a domain that is not a host name', async () => {
    expect(await failure({ ...BASE, domain: 'https://scim.example.com/' })).toMatch(/^scim-bridge:domain must be a host name/);
  });

  test('maxReplicas below minReplicas', async () => {
    expect(await failure({ ...BASE, minReplicas: '4', maxReplicas: '3' })).toBe('scim-bridge:maxReplicas must be at least minReplicas (4), got 3');
  });

  test('a front door that does not exist', async () => {
    expect(await failure({ ...BASE, frontDoor: 'cdn' })).toBe('scim-bridge:frontDoor must be one of loadBalancer, domainMapping (got "cdn")');
  });

  test('concurrency outside what Cloud Run accepts', async () => {
    expect(await failure({ ...BASE, concurrency: '5000' })).toMatch(/^scim-bridge:concurrency must be a whole number from 1 to 1000/);
  });

  test('a database tier that is not a Cloud SQL tier', async () => {
    expect(await failure({ ...BASE, databaseTier: 'small' })).toMatch(/^scim-bridge:databaseTier must be a Cloud SQL tier/);
  });

  test('an unsupported PostgreSQL version', async () => {
    expect(await failure({ ...BASE, databaseVersion: '9.6' })).toMatch(/^scim-bridge:databaseVersion must be one of 14, 15, 16, 17/);
  });

  test('a TLS profile weaker than MODERN', async () => {
    expect(await failure({ ...BASE, sslPolicyProfile: 'COMPATIBLE' })).toMatch(/^scim-bridge:sslPolicyProfile must be one of MODERN, RESTRICTED/);
  });

  test('dnsZoneProject without dnsZone', async () => {
    expect(await failure({ ...BASE, dnsZoneProject: 'dns-project' })).toMatch(/^scim-bridge:dnsZoneProject needs dnsZone/);
  });

  test('missing gcp:project and gcp:region provider settings', async () => {
    expect(await failure(BASE, { provider: { project: '' } })).toMatch(/^gcp:project is required/);
    expect(await failure(BASE, { provider: { region: '' } })).toMatch(/^gcp:region is required/);
    expect(await failure(BASE, { provider: { region: 'Europe West' } })).toMatch(/^gcp:region must be a region such as europe-west1/);
  });
});

describe('front door rules', () => {
  test('ingress: internal load balancer only for the load balancer, all for a domain mapping', () => {
    expect(ingressFor('loadBalancer')).toBe('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
    expect(ingressFor('domainMapping')).toBe('INGRESS_TRAFFIC_ALL');
  });

  test('the domain must sit in the Cloud DNS zone, and a domain mapping cannot use the apex', () => {
    expect(() => checkDomainInZone('scim.example.com', 'example.com.', 'domainMapping')).not.toThrow();
    expect(() => checkDomainInZone('example.com', 'example.com.', 'loadBalancer')).not.toThrow();
    expect(() => checkDomainInZone('scim.example.org', 'example.com.', 'loadBalancer')).toThrow(/not inside the Cloud DNS zone example\.com\./);
    expect(() => checkDomainInZone('badexample.com', 'example.com.', 'loadBalancer')).toThrow(/not inside/);
    expect(() => checkDomainInZone('example.com', 'example.com.', 'domainMapping')).toThrow(/apex/);
  });
});
