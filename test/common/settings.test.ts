/**
 * One reader of the shared settings for both tools: CDK context keeps JSON values (cdk.json) or strings (`-c`), Pulumi
 * config keeps strings (structured values as JSON text). The same settings must come out of both.
 */
import { SharedSettings, readSharedSettings } from '../../constructs/common';

const fail = (key: string, problem: string): never => {
  throw new Error(`${key} ${problem}`);
};
const read = (values: Record<string, unknown>) => readSharedSettings(new SharedSettings({ get: (k) => values[k] }, fail));

const EXPECTED = {
  domain: 'scim.example.com',
  minReplicas: 2,
  maxReplicas: 8,
  allowedDomains: ['example.com', 'example.org'],
  deletionProtection: false,
  database: { version: '16', size: 'db-s-2vcpu-4gb', storageGiB: undefined, backupRetentionDays: undefined, highAvailability: true },
  webhooks: [{ name: 'app', url: 'https://app.example.com/hooks', events: ['user.*'] }],
  deprovisionGuard: { count: 25, percent: undefined, windowSeconds: undefined, settleSeconds: 30 },
  tags: { team: 'identity' },
};

test('CDK context (JSON values, as in cdk.json) and Pulumi config (strings) give the same settings', () => {
  const cdk = read({
    domain: 'SCIM.example.com',
    minReplicas: 2,
    maxReplicas: 8,
    allowedDomains: ['example.com', 'example.org'],
    deletionProtection: false,
    database: { version: 16, size: 'db-s-2vcpu-4gb', highAvailability: true },
    webhooks: [{ name: 'app', url: 'https://app.example.com/hooks', events: ['user.*'] }],
    deprovisionGuard: { count: 25, settleSeconds: 30 },
    tags: { team: 'identity' },
  });
  const pulumi = read({
    domain: 'scim.example.com',
    minReplicas: '2',
    maxReplicas: '8',
    allowedDomains: 'example.com, example.org',
    deletionProtection: 'false',
    database: '{"version":"16","size":"db-s-2vcpu-4gb","highAvailability":"true"}',
    webhooks: '[{"name":"app","url":"https://app.example.com/hooks","events":"user.*"}]',
    deprovisionGuard: '{"count":25,"settleSeconds":"30"}',
    tags: '{"team":"identity"}',
  });
  expect(cdk).toMatchObject(EXPECTED);
  expect(pulumi).toMatchObject(EXPECTED);
});

test('a dotted key given flat (`-c database.size=...`) is read as the field', () => {
  expect(read({ domain: 'scim.example.com', database: { version: '17' }, 'database.size': 't4g.small' }).database).toMatchObject({
    version: '17',
    size: 't4g.small',
  });
  expect(read({ domain: 'scim.example.com', 'database.size': 't4g.small' }).database).toMatchObject({ size: 't4g.small' });
  expect(read({ domain: 'scim.example.com' }).database).toBeUndefined();
});

test('every problem names the key', () => {
  expect(() => read({})).toThrow(/^domain is required/);
  expect(() => read({ domain: 'scim.example.com', maxReplicas: 'many' })).toThrow(/^maxReplicas must be a number \(got "many"\)/);
  expect(() => read({ domain: 'scim.example.com', database: '[1]' })).toThrow(/^database must be an object/);
  expect(() => read({ domain: 'scim.example.com', webhooks: '{"name":"app"}' })).toThrow(/^webhooks must be a list/);
  expect(() => read({ domain: 'scim.example.com', database: { highAvailability: 'yes' } })).toThrow(/^database\.highAvailability must be true or false/);
});
