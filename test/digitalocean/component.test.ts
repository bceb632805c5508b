/**
 * ScimBridgeDigitalOcean used as a component (without the stack): its args are checked once, each problem named by
 * the arg, and values App Platform's spec is chosen from must be known when the program runs.
 */
import * as pulumi from '@pulumi/pulumi';
import { ArgError } from '../../constructs/common';
import { resolveDigitalOceanArgs, type ScimBridgeDigitalOceanArgs } from '../../constructs/digitalocean';

const base: ScimBridgeDigitalOceanArgs = { scimSession: pulumi.secret('{}'), region: 'ams3', domain: 'scim.example.com' };

test.each([
  [{ domain: pulumi.output('scim.example.com') }, 'ScimBridgeDigitalOcean: domain must be a plain value, not a Pulumi output'],
  [{ maxReplicas: pulumi.output(4) }, 'ScimBridgeDigitalOcean: maxReplicas must be a plain value'],
  [{ memoryMiB: Promise.resolve(512) as unknown as number }, 'ScimBridgeDigitalOcean: memoryMiB must be a plain value'],
  [{ instanceSize: 'apps-s-1vcpu-2gb', maxReplicas: 3 }, 'ScimBridgeDigitalOcean: instanceSize is a shared-CPU size'],
  [{ alertEmails: ['nobody'] }, 'ScimBridgeDigitalOcean: alertEmails must be email addresses'],
  [{ dnsZone: 'example.net' }, 'ScimBridgeDigitalOcean: dnsZone must contain domain'],
  [{ region: 'nyc' }, 'ScimBridgeDigitalOcean: region must be a datacenter slug'],
  [{ registryTier: 'gold' as never }, 'ScimBridgeDigitalOcean: registryTier must be one of starter, basic, professional'],
])('%#: %s', (change, message) => {
  // The shared args are typed plain; an output may still arrive at run time (a JavaScript caller, a cast).
  const args = { ...base, ...change } as unknown as ScimBridgeDigitalOceanArgs;
  expect(() => resolveDigitalOceanArgs(args)).toThrow(ArgError);
  expect(() => resolveDigitalOceanArgs(args)).toThrow(message);
});

test('outputs are fine where the spec only carries them: the secrets, the CPU target, the VPC', () => {
  const r = resolveDigitalOceanArgs({ ...base, targetCpuPercent: pulumi.output(50) as unknown as number, vpcId: pulumi.output('vpc') });
  expect(r.instanceSize).toBe('apps-s-1vcpu-1gb');
  expect(r.databaseSize).toBe('db-s-1vcpu-1gb');
});
