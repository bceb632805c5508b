/** The CDK app (stacks/aws.ts): context under the shared names, the old names with a warning, errors naming the key. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp, createScimBridgeStack, DEPRECATED_CONTEXT } from '../../stacks/aws';
import { cdkJsonContext, container, envOf, only, policyStatementsOf, taskRoleId } from './helpers';

/** An app with cdk.json's context, overridden like `-c key=value` would (strings). */
function appWith(overrides: Record<string, unknown> = {}, without: string[] = []): App {
  const context: Record<string, unknown> = { ...cdkJsonContext(), ...overrides };
  for (const key of without) delete context[key];
  return new App({ context });
}

const EXTENSIONS = [{ id: 'urn:ietf:params:scim:schemas:extension:acme:2.0:User', attributes: [{ name: 'costCenter', type: 'string' }] }];
const CERT = 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

describe('the CDK app with the context of cdk.json', () => {
  it('synthesizes offline, with the cdk-nag checks, into one termination-protected, region-bound stack', () => {
    const assembly = createApp(appWith()).synth(); // throws on any cdk-nag or CloudFormation validation error
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['ScimBridge']);
    const stack = assembly.getStackByName('ScimBridge');
    expect(stack.environment.region).toBe('us-east-1');
    expect(stack.environment.account).toBe('unknown-account');
    // The CLI enables it before running the change set; the construct's termination guard lifts it on a failed create.
    expect(stack.terminationProtection).toBe(true);
    expect(stack.template.Outputs.scimBaseUrl.Value).toBe('https://scim.example.com/scim/v2');
    // Tags on everything that takes them, the stack's own CDK helpers included.
    const resources = Object.values(stack.template.Resources as Record<string, any>);
    const untagged = resources
      .filter((r) => r.Type === 'AWS::Lambda::Function' || r.Type === 'AWS::IAM::Role')
      .filter((r) => !(r.Properties.Tags ?? []).some((tag: any) => tag.Key === 'app'));
    expect(untagged).toEqual([]);
  });

  it('reads the shared names from -c strings and nested cdk.json objects alike', () => {
    const flat = Template.fromStack(
      createScimBridgeStack(
        appWith({
          minReplicas: '3',
          maxReplicas: '9',
          cpu: '1',
          memoryMiB: '2048',
          'database.size': 't4g.medium',
          'database.storageGiB': '40',
          'database.highAvailability': 'true',
          allowedDomains: 'example.com, example.org',
          logRetentionDays: '90',
          cpuArchitecture: 'arm64',
          tags: 'team=identity,env=prod',
          schemaExtensions: JSON.stringify(EXTENSIONS),
          undeclaredExtensions: 'keep',
        }),
      ),
    );
    flat.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 9 });
    expect(only(flat, 'AWS::RDS::DBInstance').props).toMatchObject({ DBInstanceClass: 'db.t4g.medium', AllocatedStorage: '40', MultiAZ: true });
    expect(only(flat, 'AWS::ECS::TaskDefinition').props).toMatchObject({ Cpu: '1024', Memory: '2048', RuntimePlatform: { CpuArchitecture: 'ARM64' } });
    expect(envOf(container(flat, 'bridge')).SCIM_ALLOWED_DOMAINS).toBe('example.com,example.org');
    expect(JSON.parse(String(envOf(container(flat, 'bridge')).SCIM_SCHEMA_EXTENSIONS))).toEqual(EXTENSIONS);
    expect(envOf(container(flat, 'bridge')).SCIM_UNDECLARED_EXTENSIONS).toBe('keep');
    flat.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    expect(only(flat, 'AWS::RDS::DBInstance').props.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'identity' },
        { Key: 'env', Value: 'prod' },
      ]),
    );
    const nested = Template.fromStack(createScimBridgeStack(appWith({ database: { size: 't4g.small', version: '16' }, tags: { team: 'identity' } })));
    expect(only(nested, 'AWS::RDS::DBInstance').props).toMatchObject({ DBInstanceClass: 'db.t4g.small', EngineVersion: '16' });
  });

  it('still reads the old names (minTasks, domainName, databaseInstanceType, ...) with a deprecation warning', () => {
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined); // synth prints the warnings
    const stack = createScimBridgeStack(
      appWith({ minTasks: '3', maxTasks: '4', domainName: 'scim.example.com', databaseInstanceType: 't4g.small', databaseMultiAz: 'true' }, [
        'domain',
        'minReplicas',
        'maxReplicas',
        'database',
      ]),
    );
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 4 });
    expect(only(t, 'AWS::RDS::DBInstance').props).toMatchObject({ DBInstanceClass: 'db.t4g.small', MultiAZ: true });
    const warnings = stack.contextWarnings;
    for (const old of ['minTasks', 'maxTasks', 'domainName', 'databaseInstanceType', 'databaseMultiAz']) {
      expect(warnings.some((w) => w.includes(`context '${old}' is deprecated: use '${DEPRECATED_CONTEXT[old]}'`))).toBe(true);
    }
    expect(printed.mock.calls.join('\n')).toContain("context 'minTasks' is deprecated");
    printed.mockRestore();
  });

  it('refuses an old name that contradicts its new one', () => {
    expect(() => createScimBridgeStack(appWith({ minTasks: '3', minReplicas: '2' }))).toThrow(
      /context 'minTasks' is the old name of 'minReplicas', which is set to something else/,
    );
  });

  it('DNS elsewhere: certificateArn with hostedZoneId empty (as -c hostedZoneId= gives it) makes no Route 53 record', () => {
    const t = Template.fromStack(createScimBridgeStack(appWith({ certificateArn: CERT, hostedZoneId: '', hostedZoneName: '' })));
    t.resourceCountIs('AWS::Route53::RecordSet', 0);
    t.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    expect(JSON.stringify(t.toJSON().Outputs.dnsRecords.Value)).toContain('CNAME');
  });

  it('an existing session secret with its KMS key gives the task role kms:Decrypt via Secrets Manager', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:scim-bridge/session-AbCdEf';
    const key = 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
    const t = Template.fromStack(createScimBridgeStack(appWith({ sessionSecretArn: arn, sessionSecretKmsKeyArn: key })));
    expect(policyStatementsOf(t, taskRoleId(t))).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: key,
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
    });
  });

  it('pulls a given ECR image through its repository, granting pull on that repository only', () => {
    const uri = '111122223333.dkr.ecr.us-east-1.amazonaws.com/scim-bridge:1.2.3';
    const t = Template.fromStack(createScimBridgeStack(appWith({ imageUri: uri })));
    const exec = only(t, 'AWS::ECS::TaskDefinition').props.ExecutionRoleArn['Fn::GetAtt'][0];
    const pulls = policyStatementsOf(t, exec).filter((st: any) => [st.Action].flat().includes('ecr:BatchGetImage'));
    expect(pulls).toEqual([expect.objectContaining({ Resource: 'arn:aws:ecr:us-east-1:111122223333:repository/scim-bridge' })]);
  });

  it.each<[string, Record<string, unknown>, string[], RegExp]>([
    ['a missing domain', {}, ['domain'], /context 'domain' is required/],
    ['neither zone nor certificate', { hostedZoneId: '' }, [], /context 'hostedZoneId' or certificateArn is required/],
    ['a zone id without its name', { hostedZoneName: '' }, [], /context 'hostedZoneName' is required with hostedZoneId/],
    ['a bad hostedZoneId', { hostedZoneId: 'example.com' }, [], /context 'hostedZoneId' must be a Route 53 hosted zone id/],
    [
      'a certificate in another region',
      { certificateArn: CERT.replace('us-east-1', 'eu-west-1') },
      [],
      /context 'certificateArn' is in eu-west-1, but the stack deploys to us-east-1/,
    ],
    ['a bad region', { region: 'Europe' }, [], /context 'region' must be an AWS region/],
    ['a bad account', { account: '12345' }, [], /context 'account' must be a 12-digit AWS account id/],
    ['minReplicas not a number', { minReplicas: 'two' }, [], /context 'minReplicas' must be a number/],
    ["maxReplicas out of range (the construct's rule, named by key)", { maxReplicas: '500' }, [], /context 'maxReplicas' must be a whole number from 1 to 100/],
    ['a database size that is no class', { 'database.size': 'big' }, [], /context 'database.size' must be an RDS instance class/],
    ['a budget the instance cannot hold', { maxReplicas: '20' }, [], /context 'maxReplicas' \(20\) needs up to 201 database connections/],
    ['a boolean that is not one', { deletionProtection: 'yes' }, [], /context 'deletionProtection' must be true or false/],
    ['a database that is not an object', { database: 'large' }, [], /context 'database' must be an object of settings/],
    [
      'a partial secret ARN',
      { sessionSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:scim' },
      [],
      /context 'sessionSecretArn' must be the complete ARN/,
    ],
    [
      'a secret in another region',
      { sessionSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-AbCdEf' },
      [],
      /context 'sessionSecretArn' is in eu-west-1/,
    ],
    [
      'a KMS key without a secret',
      { sessionSecretKmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d' },
      [],
      /context 'sessionSecretKmsKeyArn' only applies together with sessionSecretArn/,
    ],
    ['an image without tag or digest', { imageUri: 'ghcr.io/example/scim-bridge' }, [], /context 'imageUri' must be an image reference with a tag or digest/],
    ['a retention CloudWatch does not offer', { logRetentionDays: 31 }, [], /context 'logRetentionDays' must be a CloudWatch Logs retention/],
    ['a TLS policy that allows TLS 1.1', { sslPolicy: 'ELBSecurityPolicy-TLS13-1-1-2021-06' }, [], /context 'sslPolicy' .*accepts TLS 1.0 or 1.1/],
    ['tags that are not k=v', { tags: 'team' }, [], /context 'tags' must be k=v pairs/],
    [
      'Google Workspace without its key',
      { 'googleWorkspace.adminEmail': 'admin@example.com', 'googleWorkspace.groups': 'eng@example.com' },
      [],
      /context 'googleCredentialsSecretArn' is required with googleWorkspace/,
    ],
  ])('refuses %s, naming the context key', (_name, overrides, without, message) => {
    expect(() => createScimBridgeStack(appWith(overrides, without))).toThrow(message);
  });

  it('names the construct rule by context key (domain outside the zone)', () => {
    expect(() => createScimBridgeStack(appWith({ domain: 'scim.example.net' }))).toThrow(/context 'domain' 'scim.example.net' is not in the hosted zone/);
  });
});
