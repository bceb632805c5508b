/**
 * The CDK app: one stack holding the `ScimBridge` construct, configured from context (cdk.json or `-c key=value`).
 * Synthesis needs no AWS credentials and no Docker engine: the hosted zone is given by id and name, and the
 * image asset is only built by `cdk deploy`.
 */
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { addAwsSolutionsChecks, type LogLevel, ScimBridge, type ScimBridgeProps } from '../constructs/aws';

/** Reads and checks context values; every error names the context key to fix. */
class Settings {
  constructor(private readonly scope: Construct) {}

  private raw(key: string): unknown {
    const value = this.scope.node.tryGetContext(key);
    return value === '' || value === null ? undefined : value;
  }

  fail(key: string, why: string): never {
    throw new Error(`context '${key}' ${why} (set it in cdk.json or pass -c ${key}=...)`);
  }

  string(key: string, pattern?: RegExp, hint?: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') this.fail(key, `must be a string, got ${JSON.stringify(value)}`);
    const text = value.trim();
    if (pattern && !pattern.test(text)) this.fail(key, `must be ${hint ?? `like ${pattern}`}, got '${text}'`);
    return text;
  }

  requiredString(key: string, pattern?: RegExp, hint?: string): string {
    return this.string(key, pattern, hint) ?? this.fail(key, 'is required');
  }

  integer(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) this.fail(key, `must be a whole number, got ${JSON.stringify(value)}`);
    return n;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined || typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    this.fail(key, `must be true or false, got ${JSON.stringify(value)}`);
  }

  /** A JSON array of strings or a comma-separated string. */
  list(key: string): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
    if (!items || items.some((item) => typeof item !== 'string')) {
      this.fail(key, `must be a list of strings or a comma-separated string, got ${JSON.stringify(value)}`);
    }
    return (items as string[]).map((item) => item.trim()).filter((item) => item.length > 0);
  }
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ACCOUNT = /^\d{12}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+)(?::([\w.-]+)|@(sha256:[0-9a-f]{64}))$/;
const IMAGE_REF = /^[a-z0-9.-]+(?::\d+)?\/[a-z0-9._/-]+(?::[\w.-]+|@sha256:[0-9a-f]{64})$/;

/** The stack that `cdk synth` / `cdk deploy` works on. */
export class ScimBridgeStack extends Stack {
  public readonly bridge: ScimBridge;

  constructor(scope: Construct, id: string, props: StackProps & { settings: Omit<ScimBridgeProps, 'hostedZone' | 'sessionSecret' | 'image'> & {
    hostedZoneId: string;
    hostedZoneName: string;
    sessionSecretArn?: string;
    sessionSecretKmsKeyArn?: string;
    imageUri?: string;
  } }) {
    super(scope, id, props);
    const { hostedZoneId, hostedZoneName, sessionSecretArn, sessionSecretKmsKeyArn, imageUri, ...rest } = props.settings;
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId, zoneName: hostedZoneName });
    const sessionSecret = sessionSecretArn
      ? secretsmanager.Secret.fromSecretAttributes(this, 'SessionSecret', {
          secretCompleteArn: sessionSecretArn,
          encryptionKey: sessionSecretKmsKeyArn ? kms.Key.fromKeyArn(this, 'SessionSecretKey', sessionSecretKmsKeyArn) : undefined,
        })
      : undefined;
    this.bridge = new ScimBridge(this, 'Bridge', { ...rest, hostedZone, sessionSecret, image: this.image(imageUri) });
  }

  private image(uri: string | undefined): ecs.ContainerImage | undefined {
    if (!uri) return undefined;
    const ecrMatch = ECR_IMAGE.exec(uri);
    if (!ecrMatch) return ecs.ContainerImage.fromRegistry(uri);
    // An ECR image: go through the repository so the execution role is granted pull on it (and only it).
    const [, account, region, name, tag, digest] = ecrMatch;
    const repository = ecr.Repository.fromRepositoryAttributes(this, 'ImageRepository', {
      repositoryName: name,
      repositoryArn: `arn:${this.partition}:ecr:${region}:${account}:repository/${name}`,
    });
    return ecs.ContainerImage.fromEcrRepository(repository, digest ?? tag);
  }
}

/** Builds the stack from the app's context; throws with the context key's name on a bad value. */
export function createScimBridgeStack(app: App): ScimBridgeStack {
  const s = new Settings(app);
  const region = s.string('region', REGION, 'an AWS region such as eu-west-1') ?? process.env.CDK_DEFAULT_REGION;
  const account = s.string('account', ACCOUNT, 'a 12-digit AWS account id');
  const hostedZoneName = s.requiredString('hostedZoneName').replace(/\.$/, '').toLowerCase();
  const sessionSecretArn = s.string('sessionSecretArn', SECRET_ARN, 'the complete ARN of a Secrets Manager secret (ending in -XXXXXX)');
  if (sessionSecretArn && region) {
    const secretRegion = SECRET_ARN.exec(sessionSecretArn)![1];
    if (secretRegion !== region) s.fail('sessionSecretArn', `is in ${secretRegion}, but the stack deploys to ${region} (context 'region')`);
  }
  const cpuArchitecture = s.string('cpuArchitecture', /^(x86_64|arm64)$/, 'x86_64 or arm64');
  const logRetentionDays = s.integer('logRetentionDays');
  if (logRetentionDays !== undefined && !Object.values(logs.RetentionDays).includes(logRetentionDays)) {
    s.fail('logRetentionDays', `must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 180, 365, ...), got ${logRetentionDays}`);
  }
  const databaseInstanceType = s.string('databaseInstanceType', /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an instance class without the db. prefix, such as t4g.micro');
  const logLevel = s.string('logLevel', /^(debug|info|warn|error)$/, 'debug, info, warn or error') as LogLevel | undefined;
  const imageUri = s.string('imageUri', IMAGE_REF, 'an image reference with a tag or digest, such as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/scim-bridge:1.0.0');
  const sessionSecretKmsKeyArn = s.string('sessionSecretKmsKeyArn', KMS_KEY_ARN, 'a KMS key ARN');
  if (sessionSecretKmsKeyArn && !sessionSecretArn) s.fail('sessionSecretKmsKeyArn', 'only applies together with sessionSecretArn');

  const settings = {
    domainName: s.requiredString('domainName').toLowerCase(),
    hostedZoneId: s.requiredString('hostedZoneId', /^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ'),
    hostedZoneName,
    sessionSecretArn,
    sessionSecretKmsKeyArn,
    imageUri,
    cpuArchitecture: cpuArchitecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : cpuArchitecture ? ecs.CpuArchitecture.X86_64 : undefined,
    minTasks: s.integer('minTasks'),
    maxTasks: s.integer('maxTasks'),
    natGateways: s.integer('natGateways'),
    allowedIngressCidrs: s.list('allowedIngressCidrs'),
    allowedDomains: s.list('allowedDomains'),
    logLevel,
    logRetention: logRetentionDays as logs.RetentionDays | undefined,
    databaseInstanceType: databaseInstanceType ? new ec2.InstanceType(databaseInstanceType) : undefined,
    databaseMultiAz: s.boolean('databaseMultiAz'),
    databaseBackupRetentionDays: s.integer('databaseBackupRetentionDays'),
    deletionProtection: s.boolean('deletionProtection'),
    accessLogs: s.boolean('accessLogs'),
  };
  const stackName = s.string('stackName', /^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name') ?? 'ScimBridge';
  return new ScimBridgeStack(app, stackName, {
    // An explicit account makes CDK look up availability zones (credentials needed); region alone stays offline.
    env: { account, region },
    description: `SCIM bridge at ${settings.domainName} (ECS Fargate, ALB, RDS PostgreSQL)`,
    terminationProtection: settings.deletionProtection ?? true,
    settings,
  });
}

/** The app as `cdk synth` runs it: the stack plus the cdk-nag AwsSolutions checks. */
export function createApp(app = new App()): App {
  createScimBridgeStack(app);
  addAwsSolutionsChecks(app);
  return app;
}

if (require.main === module) {
  createApp().synth();
}
