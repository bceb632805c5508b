/**
 * The change feed (issue 24) and the deprovisioning guard (issue 27) on AWS: declared webhooks, the guard's thresholds
 * and schema extensions in the plain environment under the contract's names; the signing secrets only from Secrets
 * Manager (ECS secrets, with kms:Decrypt through Secrets Manager for a customer managed key, aws/aws-cdk#10160);
 * deliveries out over HTTPS; an alarm when a hold starts.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { BRIDGE_ENV } from '../../contract';
import { HOLD_STARTED_MESSAGE } from '../../constructs/aws';
import { createScimBridgeStack } from '../../stacks/aws';
import { build, cdkJsonContext, container, envOf, executionRoleId, idByPath, only, policyStatementsOf, taskRoleId, template } from './helpers';

const SECRETS_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:scim-bridge/webhooks-AbCdEf';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const WEBHOOKS = [
  { name: 'app', url: 'https://app.example.com/scim-events', events: ['user.*'] },
  { name: 'hr', url: 'https://hr.example.com:8443/hooks' },
];
const EXTENSIONS = [{ id: 'urn:example:params:scim:schemas:extension:badge:2.0:User', name: 'Badge', attributes: [{ name: 'badge', type: 'string' }] }];

describe('ScimBridge with webhooks, the guard and schema extensions', () => {
  let t: Template;
  beforeAll(() => {
    t = template(
      build((stack) => ({
        webhooks: WEBHOOKS,
        webhookSecrets: secretsmanager.Secret.fromSecretAttributes(stack, 'Hooks', {
          secretCompleteArn: SECRETS_ARN,
          encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
        }),
        deprovisionGuard: { count: 25, percent: 5, windowSeconds: 600, settleSeconds: 30 },
        schemaExtensions: EXTENSIONS,
      })),
    );
  });

  it('puts the endpoints, thresholds and extensions in the plain environment under the contract names', () => {
    const env = envOf(container(t, 'bridge'));
    expect(JSON.parse(env[BRIDGE_ENV.webhooks] as string)).toEqual(WEBHOOKS);
    expect(env).toMatchObject({
      [BRIDGE_ENV.deprovisionHoldCount]: '25',
      [BRIDGE_ENV.deprovisionHoldPercent]: '5',
      [BRIDGE_ENV.deprovisionHoldWindowSeconds]: '600',
      [BRIDGE_ENV.deprovisionSettleSeconds]: '30',
      [BRIDGE_ENV.schemaExtensions]: JSON.stringify(EXTENSIONS),
    });
    // The one-off bootstrap step has no use for them.
    expect(envOf(container(t, 'db-bootstrap'))[BRIDGE_ENV.webhooks]).toBeUndefined();
  });

  it('injects the signing secrets from Secrets Manager only: an ECS secret the execution role reads, with kms:Decrypt via Secrets Manager', () => {
    const bridge = container(t, 'bridge');
    expect(bridge.Secrets).toContainEqual({ Name: BRIDGE_ENV.webhookSecrets, ValueFrom: SECRETS_ARN });
    expect((bridge.Environment ?? []).map((e: { Name: string }) => e.Name)).not.toContain(BRIDGE_ENV.webhookSecrets);
    const exec = policyStatementsOf(t, executionRoleId(t));
    const reads = exec.filter((st: any) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(reads.flatMap((st: any) => [st.Resource].flat())).toContain(SECRETS_ARN);
    expect(exec).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: KEY_ARN,
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    });
    // The bridge's own AWS calls (the task role) never read them.
    expect(JSON.stringify(policyStatementsOf(t, taskRoleId(t)))).not.toContain(SECRETS_ARN);
  });

  it('lets deliveries out: HTTPS on 443 to any address, and the port a webhook URL names', () => {
    const sg = t.findResources('AWS::EC2::SecurityGroup')[idByPath(t, 'Service/SecurityGroup/Resource')].Properties;
    expect(sg.SecurityGroupEgress.map((r: any) => [r.CidrIp, r.FromPort, r.ToPort])).toEqual([
      ['0.0.0.0/0', 443, 443],
      ['0.0.0.0/0', 8443, 8443],
    ]);
  });

  it('alarms when the guard starts a hold: a metric filter on its JSON log line, to the alarm topic', () => {
    // The guard's scim_bridge_feed_holds_active gauge is Prometheus-only; the log line is what reaches CloudWatch.
    const filter = only(t, 'AWS::Logs::MetricFilter').props;
    expect(filter).toMatchObject({
      LogGroupName: { Ref: idByPath(t, 'Service/Logs/Resource') },
      FilterPattern: `{ $.msg = "${HOLD_STARTED_MESSAGE}" }`,
      MetricTransformations: [{ MetricNamespace: 'ScimBridge/Test', MetricName: 'scim_bridge_feed_holds_started', MetricValue: '1' }],
    });
    const alarm = Object.values(t.findResources('AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.MetricName === 'scim_bridge_feed_holds_started',
    )!.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'ScimBridge/Test',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: 60,
    });
    expect(alarm.AlarmActions).toEqual([{ Ref: only(t, 'AWS::SNS::Topic').id }]);
    // The line the pattern selects, as the bridge writes its log lines (JSON with msg).
    expect(JSON.parse(JSON.stringify({ level: 40, time: 0, msg: HOLD_STARTED_MESSAGE })).msg).toBe(HOLD_STARTED_MESSAGE);
  });
});

describe('refused feed settings (each names the prop)', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['webhooks without signing secrets', { webhooks: WEBHOOKS }, /ScimBridge: webhookSecrets is required with webhooks/],
    ['a plain-http endpoint', { webhooks: [{ name: 'app', url: 'http://app.example.com/' }] }, /webhooks\[0\].url must be an https:\/\/ URL/],
    ['an endpoint declared twice', { webhooks: [WEBHOOKS[0], WEBHOOKS[0]] }, /webhooks\[1\].name repeats "app"/],
    ['a percent above 100', { deprovisionGuard: { percent: 150 } }, /deprovisionGuard.percent must be/],
    [
      'an extension without a URN',
      { schemaExtensions: [{ id: 'badge', attributes: [{ name: 'badge' }] }] },
      /schemaExtensions\[0\].id must be the extension's URN/,
    ],
  ])('refuses %s', (_name, props, message) => {
    expect(() => build(props as never, { nag: false })).toThrow(message);
  });
});

describe('the CDK app reads the feed settings from context', () => {
  const app = (overrides: Record<string, unknown>) => new App({ context: { ...cdkJsonContext(), ...overrides } });

  it('takes -c webhooks as JSON and the secret by ARN', () => {
    const arn = SECRETS_ARN.replace('eu-west-1', 'us-east-1');
    const t = Template.fromStack(
      createScimBridgeStack(
        app({
          webhooks: JSON.stringify(WEBHOOKS.slice(0, 1)),
          webhookSecretsArn: arn,
          deprovisionGuard: '{"count":10}',
          schemaExtensions: { schemas: EXTENSIONS },
        }),
      ),
    );
    const bridge = container(t, 'bridge');
    expect(JSON.parse(envOf(bridge)[BRIDGE_ENV.webhooks] as string)).toEqual(WEBHOOKS.slice(0, 1));
    expect(envOf(bridge)).toMatchObject({ [BRIDGE_ENV.deprovisionHoldCount]: '10', [BRIDGE_ENV.schemaExtensions]: JSON.stringify(EXTENSIONS) });
    expect(bridge.Secrets).toContainEqual({ Name: BRIDGE_ENV.webhookSecrets, ValueFrom: arn });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['webhooks that are not JSON', { webhooks: 'app=https://x' }, /context 'webhooks' must be JSON/],
    ['webhooks without their secret', { webhooks: JSON.stringify(WEBHOOKS.slice(0, 1)) }, /context 'webhookSecretsArn' is required with webhooks/],
    ['a secret in another region', { webhookSecretsArn: SECRETS_ARN }, /context 'webhookSecretsArn' is in eu-west-1/],
  ])('refuses %s, naming the context key', (_name, overrides, message) => {
    expect(() => createScimBridgeStack(app(overrides))).toThrow(message);
  });
});
