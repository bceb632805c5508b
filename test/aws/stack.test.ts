import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp, createScimBridgeStack } from '../../stacks/aws';
import { cdkJsonContext, only } from './helpers';

/** An app with cdk.json's context, overridden like `-c key=value` would (strings). */
function appWith(overrides: Record<string, unknown> = {}, without: string[] = []): App {
  const context = { ...cdkJsonContext(), ...overrides };
  for (const key of without) delete context[key];
  return new App({ context });
}

describe('the CDK app (stacks/aws.ts) with the context of cdk.json', () => {
  it('synthesizes offline, with the cdk-nag checks, into one region-bound stack', () => {
    const app = createApp(appWith());
    const assembly = app.synth(); // throws on any cdk-nag or CloudFormation validation error
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['ScimBridge']);
    const stack = assembly.getStackByName('ScimBridge');
    expect(stack.environment.region).toBe('us-east-1');
    expect(stack.environment.account).toBe('unknown-account');
    expect(stack.terminationProtection).toBe(true);
    // Synthesis staged the image's build context; the image itself is built by `cdk deploy`.
    expect(Object.keys(stack.template.Resources).length).toBeGreaterThan(50);
    const outputs = stack.template.Outputs;
    expect(Object.values(outputs).map((o: any) => o.Value)).toContain('https://scim.example.com/scim/v2');
  });

  it('takes overrides as -c strings (numbers, booleans, lists)', () => {
    const app = appWith({
      minTasks: '3',
      maxTasks: '9',
      databaseMultiAz: 'false',
      allowedDomains: 'example.com, example.org',
      logRetentionDays: '90',
      cpuArchitecture: 'arm64',
    });
    const t = Template.fromStack(createScimBridgeStack(app));
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 9 });
    t.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    const taskDef = only(t, 'AWS::ECS::TaskDefinition').props;
    expect(taskDef.RuntimePlatform.CpuArchitecture).toBe('ARM64');
    expect(taskDef.ContainerDefinitions[0].Environment).toContainEqual({
      Name: 'SCIM_ALLOWED_DOMAINS',
      Value: 'example.com,example.org',
    });
  });

  it('uses an existing session secret given by ARN, and grants only that ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:scim-bridge/session-AbCdEf';
    const t = Template.fromStack(createScimBridgeStack(appWith({ sessionSecretArn: arn })));
    const taskDef = only(t, 'AWS::ECS::TaskDefinition').props;
    expect(taskDef.ContainerDefinitions[0].Secrets[0]).toEqual({ Name: 'SCIM_SESSION', ValueFrom: arn });
    const taskRoleId = taskDef.TaskRoleArn['Fn::GetAtt'][0];
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === taskRoleId))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([expect.objectContaining({ Resource: arn })]);
  });

  it('pulls a given ECR image through its repository, granting pull on that repository only', () => {
    const uri = '111122223333.dkr.ecr.us-east-1.amazonaws.com/scim-bridge:1.2.3';
    const t = Template.fromStack(createScimBridgeStack(appWith({ imageUri: uri })));
    const taskDef = only(t, 'AWS::ECS::TaskDefinition').props;
    expect(JSON.stringify(taskDef.ContainerDefinitions[0].Image)).toContain('111122223333.dkr.ecr.us-east-1.');
    expect(JSON.stringify(taskDef.ContainerDefinitions[0].Image)).toContain('/scim-bridge:1.2.3');
    const executionRoleId = taskDef.ExecutionRoleArn['Fn::GetAtt'][0];
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === executionRoleId))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const pulls = statements.filter((st: any) => [st.Action].flat().includes('ecr:BatchGetImage'));
    expect(pulls).toEqual([
      expect.objectContaining({ Resource: 'arn:aws:ecr:us-east-1:111122223333:repository/scim-bridge' }),
    ]);
  });

  it.each<[string, Record<string, unknown>, string[], RegExp]>([
    ['a missing domainName', {}, ['domainName'], /context 'domainName' is required/],
    ['a missing hostedZoneId', {}, ['hostedZoneId'], /context 'hostedZoneId' is required/],
    ['a bad hostedZoneId', { hostedZoneId: 'example.com' }, [], /context 'hostedZoneId' must be a Route 53 hosted zone id/],
    ['a bad region', { region: 'Europe' }, [], /context 'region' must be an AWS region/],
    ['a bad account', { account: '12345' }, [], /context 'account' must be a 12-digit AWS account id/],
    ['minTasks not a number', { minTasks: 'two' }, [], /context 'minTasks' must be a whole number/],
    ['databaseMultiAz not a boolean', { databaseMultiAz: 'yes' }, [], /context 'databaseMultiAz' must be true or false/],
    ['a partial secret ARN', { sessionSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:scim' }, [], /context 'sessionSecretArn' must be the complete ARN/],
    ['a secret in another region', { sessionSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-AbCdEf' }, [], /context 'sessionSecretArn' is in eu-west-1, but the stack deploys to us-east-1/],
    ['an image without tag or digest', { imageUri: 'ghcr.io/example/scim-bridge' }, [], /context 'imageUri' must be an image reference with a tag or digest/],
    ['a retention CloudWatch does not offer', { logRetentionDays: 31 }, [], /context 'logRetentionDays' must be a CloudWatch Logs retention/],
    ['an unknown cpuArchitecture', { cpuArchitecture: 'riscv' }, [], /context 'cpuArchitecture' must be x86_64 or arm64/],
    ['a KMS key without a secret', { sessionSecretKmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d' }, [], /context 'sessionSecretKmsKeyArn' only applies together with sessionSecretArn/],
  ])('refuses %s, naming the context key', (_name, overrides, without, message) => {
    expect(() => createScimBridgeStack(appWith(overrides, without))).toThrow(message);
  });

  it('passes construct validation errors through (domain outside the zone)', () => {
    expect(() => createScimBridgeStack(appWith({ domainName: 'scim.example.net' }))).toThrow(/domainName .*not in the hosted zone/);
  });
});
