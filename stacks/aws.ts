/**
 * The CDK app: one stack holding the `ScimBridge` construct, configured from context (cdk.json or `-c key=value`)
 * under the shared names every cloud uses (`domain`, `minReplicas`, `database.size`, ...). Nested settings are a
 * JSON object in cdk.json (`"database": { "size": "t4g.small" }`) or a dotted key on the command line
 * (`-c database.size=t4g.small`). Synthesis needs no AWS credentials and no Docker engine.
 */
import { Annotations, App, CfnResource, Stack, type StackProps, TagManager, Tags } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { addAwsSolutionsChecks, ScimBridge, type ScimBridgeProps, UNTAGGED_TYPES } from '../constructs/aws';
import { ArgError, type BridgeDatabaseArgs, type GoogleWorkspaceArgs, type ScimBridgeBaseArgs, schemaDefinitions } from '../constructs/common';

/** Context keys that were renamed to the shared names; still read, with a warning. */
export const DEPRECATED_CONTEXT: Record<string, string> = {
  domainName: 'domain',
  minTasks: 'minReplicas',
  maxTasks: 'maxReplicas',
  databaseInstanceType: 'database.size',
  databaseMultiAz: 'database.highAvailability',
  databaseBackupRetentionDays: 'database.backupRetentionDays',
};

/** Construct props whose context key has another name. */
const CONTEXT_KEY_OF_PROP: Record<string, string> = {
  certificate: 'certificateArn',
  hostedZone: 'hostedZoneId',
  sessionSecret: 'sessionSecretArn',
  googleCredentials: 'googleCredentialsSecretArn',
  webhookSecrets: 'webhookSecretsArn',
  logRetention: 'logRetentionDays',
};

/** A context mistake: names the key to fix. */
export class ContextError extends Error {
  constructor(key: string, problem: string) {
    super(`context '${key}' ${problem} (set it in cdk.json or pass -c ${key}=...)`);
    this.name = 'ContextError';
  }
}

/** Reads and checks context values; every error names the context key to fix. */
class Settings {
  readonly warnings: string[] = [];

  constructor(private readonly scope: Construct) {}

  /** `a.b`: the dotted key itself (`-c a.b=...`), or field `b` of the object `a` (cdk.json). */
  private raw(key: string): unknown {
    const read = (k: string): unknown => {
      const flat = this.scope.node.tryGetContext(k);
      if (flat !== undefined) return flat;
      const dot = k.indexOf('.');
      if (dot < 0) return undefined;
      const parent = this.scope.node.tryGetContext(k.slice(0, dot));
      if (parent === undefined || parent === null || parent === '') return undefined;
      if (typeof parent !== 'object' || Array.isArray(parent)) this.fail(k.slice(0, dot), `must be an object of settings (or use -c ${k}=...)`);
      return (parent as Record<string, unknown>)[k.slice(dot + 1)];
    };
    let value = read(key);
    const old = Object.keys(DEPRECATED_CONTEXT).find((o) => DEPRECATED_CONTEXT[o] === key);
    if (old !== undefined) {
      const legacy = read(old);
      if (legacy !== undefined && legacy !== '' && legacy !== null) {
        if (value !== undefined && value !== '' && JSON.stringify(value) !== JSON.stringify(legacy)) {
          this.fail(old, `is the old name of '${key}', which is set to something else: remove '${old}'`);
        }
        this.warnings.push(`context '${old}' is deprecated: use '${key}'`);
        value = value === undefined || value === '' ? legacy : value;
      }
    }
    return value === '' || value === null ? undefined : value;
  }

  fail(key: string, why: string): never {
    throw new ContextError(key, why);
  }

  string(key: string, pattern?: RegExp, hint?: string): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') this.fail(key, `must be a string, got ${JSON.stringify(value)}`);
    const text = String(value).trim();
    if (text === '') return undefined;
    if (pattern && !pattern.test(text)) this.fail(key, `must be ${hint ?? `like ${pattern}`}, got '${text}'`);
    return text;
  }

  requiredString(key: string, pattern?: RegExp, hint?: string): string {
    return this.string(key, pattern, hint) ?? this.fail(key, 'is required');
  }

  /** A number; ranges are checked once, by the construct (whose error names the same key). */
  number(key: string): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) this.fail(key, `must be a number, got ${JSON.stringify(value)}`);
    return n;
  }

  integer(key: string): number | undefined {
    const n = this.number(key);
    if (n !== undefined && !Number.isInteger(n)) this.fail(key, `must be a whole number, got ${n}`);
    return n;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined || typeof value === 'boolean') return value as boolean | undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    this.fail(key, `must be true or false, got ${JSON.stringify(value)}`);
  }

  /** SCIM schema extensions: a list in cdk.json, or JSON (`-c schemaExtensions="$(cat extensions.json)"`), also `{"schemas": [...]}`. */
  schemaExtensions(key: string): Record<string, unknown>[] | undefined {
    return schemaDefinitions(this.raw(key), (problem) => this.fail(key, problem));
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

  /** JSON: a value of cdk.json as it is, or a JSON string (`-c key='[...]'`). */
  json(key: string): unknown {
    const value = this.raw(key);
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch (error) {
      this.fail(key, `must be JSON: ${(error as Error).message}`);
    }
  }

  /** An object of strings (cdk.json) or `k=v,k2=v2` (`-c tags=team=identity,env=prod`). */
  map(key: string): Record<string, string> | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, String(v)]));
    if (typeof value !== 'string') this.fail(key, `must be an object or k=v,k2=v2, got ${JSON.stringify(value)}`);
    const out: Record<string, string> = {};
    for (const pair of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) this.fail(key, `must be k=v pairs separated by commas, got '${pair}'`);
      out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    return out;
  }
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ACCOUNT = /^\d{12}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[0-9a-f-]{36}$/;
const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+)(?::([\w.-]+)|@(sha256:[0-9a-f]{64}))$/;
const IMAGE_REF = /^[a-z0-9.-]+(?::\d+)?\/[a-z0-9._/-]+(?::[\w.-]+|@sha256:[0-9a-f]{64})$/;

/** What the app reads from context besides the construct's own props. */
export interface StackSettings {
  readonly bridge: Omit<ScimBridgeProps, 'hostedZone' | 'certificate' | 'sessionSecret' | 'googleCredentials' | 'webhookSecrets' | 'image'>;
  readonly hostedZone?: { hostedZoneId: string; zoneName: string };
  readonly certificateArn?: string;
  readonly sessionSecretArn?: string;
  readonly sessionSecretKmsKeyArn?: string;
  readonly googleCredentialsSecretArn?: string;
  readonly googleCredentialsKmsKeyArn?: string;
  readonly webhookSecretsArn?: string;
  readonly webhookSecretsKmsKeyArn?: string;
  readonly imageUri?: string;
}

/** The stack that `cdk synth` / `cdk deploy` works on. */
export class ScimBridgeStack extends Stack {
  public readonly bridge: ScimBridge;
  /** Warnings about the context (old key names), also shown by `cdk synth`. */
  public readonly contextWarnings: readonly string[];

  constructor(scope: Construct, id: string, props: StackProps & { settings: StackSettings; contextWarnings?: readonly string[] }) {
    super(scope, id, props);
    this.contextWarnings = props.contextWarnings ?? [];
    for (const warning of this.contextWarnings) Annotations.of(this).addWarningV2('scim-bridge:deprecatedContext', warning);
    const s = props.settings;
    this.bridge = new ScimBridge(this, 'Bridge', {
      ...s.bridge,
      hostedZone: s.hostedZone && route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', s.hostedZone),
      certificate: s.certificateArn ? acm.Certificate.fromCertificateArn(this, 'Certificate', s.certificateArn) : undefined,
      sessionSecret: this.secret('SessionSecret', s.sessionSecretArn, s.sessionSecretKmsKeyArn),
      googleCredentials: this.secret('GoogleCredentials', s.googleCredentialsSecretArn, s.googleCredentialsKmsKeyArn),
      webhookSecrets: this.secret('WebhookSecrets', s.webhookSecretsArn, s.webhookSecretsKmsKeyArn),
      image: this.image(s.imageUri),
    });
    // The stack's own helpers carry the same tags as the bridge. CDK's custom resource provider (the one that empties
    // the VPC's default security group) is a plain CfnResource the Tags aspect does not reach: tag it directly.
    const tags = Object.entries(this.bridge.args.tags);
    for (const [key, value] of tags) Tags.of(this).add(key, value, { excludeResourceTypes: [...UNTAGGED_TYPES] });
    for (const resource of this.node.findAll()) {
      if (!CfnResource.isCfnResource(resource) || TagManager.isTaggable(resource)) continue;
      if (resource.cfnResourceType === 'AWS::Lambda::Function' || resource.cfnResourceType === 'AWS::IAM::Role') {
        resource.addPropertyOverride(
          'Tags',
          tags.map(([Key, Value]) => ({ Key, Value })),
        );
      }
    }
  }

  private secret(id: string, arn?: string, keyArn?: string): secretsmanager.ISecret | undefined {
    if (!arn) return undefined;
    return secretsmanager.Secret.fromSecretAttributes(this, id, {
      secretCompleteArn: arn,
      // The key is what gives the readers kms:Decrypt (constructs/aws/secrets.ts).
      encryptionKey: keyArn ? kms.Key.fromKeyArn(this, `${id}Key`, keyArn) : undefined,
    });
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

/** The shared args from context, under the names every cloud uses (types here; ranges in the construct). */
function readBaseArgs(s: Settings): ScimBridgeBaseArgs {
  const database: BridgeDatabaseArgs = {
    version: s.string('database.version') as BridgeDatabaseArgs['version'],
    size: s.string('database.size'),
    storageGiB: s.number('database.storageGiB'),
    backupRetentionDays: s.number('database.backupRetentionDays'),
    highAvailability: s.boolean('database.highAvailability'),
  };
  const adminEmail = s.string('googleWorkspace.adminEmail');
  const googleWorkspace: GoogleWorkspaceArgs | undefined = adminEmail
    ? {
        adminEmail,
        groups: s.list('googleWorkspace.groups') ?? [],
        syncIntervalSeconds: s.number('googleWorkspace.syncIntervalSeconds'),
        directoryUrl: s.string('googleWorkspace.directoryUrl'),
      }
    : undefined;
  return {
    domain: s.requiredString('domain').toLowerCase(),
    minReplicas: s.number('minReplicas'),
    maxReplicas: s.number('maxReplicas'),
    cpu: s.number('cpu'),
    memoryMiB: s.number('memoryMiB'),
    targetCpuPercent: s.number('targetCpuPercent'),
    allowedDomains: s.list('allowedDomains'),
    logLevel: s.string('logLevel') as ScimBridgeBaseArgs['logLevel'],
    usernameFormat: s.string('usernameFormat') as ScimBridgeBaseArgs['usernameFormat'],
    schemaExtensions: s.schemaExtensions('schemaExtensions'),
    undeclaredExtensions: s.string('undeclaredExtensions') as ScimBridgeBaseArgs['undeclaredExtensions'],
    eventRetentionDays: s.number('eventRetentionDays'),
    deletionProtection: s.boolean('deletionProtection'),
    database,
    googleWorkspace,
    tags: s.map('tags'),
  };
}

/** Builds the stack from the app's context; throws with the context key's name on a bad value. */
export function createScimBridgeStack(app: App): ScimBridgeStack {
  const s = new Settings(app);
  const region = s.string('region', REGION, 'an AWS region such as eu-west-1') ?? process.env.CDK_DEFAULT_REGION;
  const account = s.string('account', ACCOUNT, 'a 12-digit AWS account id');
  const inRegion = (key: string, arnRegion: string) => {
    if (region && arnRegion !== region) s.fail(key, `is in ${arnRegion}, but the stack deploys to ${region} (context 'region')`);
  };

  const hostedZoneId = s.string('hostedZoneId', ZONE_ID, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ');
  const hostedZoneName = s.string('hostedZoneName')?.replace(/\.$/, '').toLowerCase();
  if (hostedZoneId && !hostedZoneName) s.fail('hostedZoneName', 'is required with hostedZoneId: the name of that zone, e.g. example.com');
  const certificateArn = s.string('certificateArn', CERTIFICATE_ARN, 'the ARN of an ACM certificate');
  if (certificateArn) inRegion('certificateArn', CERTIFICATE_ARN.exec(certificateArn)![1]);
  if (!hostedZoneId && !certificateArn) {
    s.fail(
      'hostedZoneId',
      'or certificateArn is required: a Route 53 zone to validate a certificate and write the record in, or (DNS managed elsewhere) an ACM certificate for the domain',
    );
  }
  const sessionSecretArn = s.string('sessionSecretArn', SECRET_ARN, 'the complete ARN of a Secrets Manager secret (ending in -XXXXXX)');
  if (sessionSecretArn) inRegion('sessionSecretArn', SECRET_ARN.exec(sessionSecretArn)![1]);
  const sessionSecretKmsKeyArn = s.string('sessionSecretKmsKeyArn', KMS_KEY_ARN, 'a KMS key ARN');
  if (sessionSecretKmsKeyArn && !sessionSecretArn) s.fail('sessionSecretKmsKeyArn', 'only applies together with sessionSecretArn');
  const googleCredentialsSecretArn = s.string('googleCredentialsSecretArn', SECRET_ARN, 'the complete ARN of a Secrets Manager secret (ending in -XXXXXX)');
  if (googleCredentialsSecretArn) inRegion('googleCredentialsSecretArn', SECRET_ARN.exec(googleCredentialsSecretArn)![1]);
  const googleCredentialsKmsKeyArn = s.string('googleCredentialsKmsKeyArn', KMS_KEY_ARN, 'a KMS key ARN');
  if (googleCredentialsKmsKeyArn && !googleCredentialsSecretArn) s.fail('googleCredentialsKmsKeyArn', 'only applies together with googleCredentialsSecretArn');

  const webhookSecretsArn = s.string('webhookSecretsArn', SECRET_ARN, 'the complete ARN of a Secrets Manager secret (ending in -XXXXXX)');
  if (webhookSecretsArn) inRegion('webhookSecretsArn', SECRET_ARN.exec(webhookSecretsArn)![1]);
  const webhookSecretsKmsKeyArn = s.string('webhookSecretsKmsKeyArn', KMS_KEY_ARN, 'a KMS key ARN');
  if (webhookSecretsKmsKeyArn && !webhookSecretsArn) s.fail('webhookSecretsKmsKeyArn', 'only applies together with webhookSecretsArn');
  const webhooks = s.json('webhooks');
  if (webhooks !== undefined && !(Array.isArray(webhooks) && webhooks.every((w) => typeof w === 'object' && w !== null && !Array.isArray(w)))) {
    s.fail('webhooks', 'must be a JSON array of endpoints such as [{"name":"app","url":"https://app.example.com/scim-events","events":["user.*"]}]');
  }

  // The same key and fields as the Pulumi stacks: -c deprovisionGuard='{"count":25,"settleSeconds":30}' (or an object in cdk.json).
  const deprovisionGuard = s.json('deprovisionGuard');
  if (deprovisionGuard !== undefined) {
    const fields = ['count', 'percent', 'windowSeconds', 'settleSeconds'];
    const ok = typeof deprovisionGuard === 'object' && deprovisionGuard !== null && !Array.isArray(deprovisionGuard);
    if (!ok || Object.entries(deprovisionGuard).some(([k, v]) => !fields.includes(k) || typeof v !== 'number')) {
      s.fail('deprovisionGuard', `must be an object of numbers with the fields ${fields.join(', ')}, e.g. {"count":25,"settleSeconds":30}`);
    }
  }

  const cpuArchitecture = s.string('cpuArchitecture', /^(x86_64|arm64)$/, 'x86_64 or arm64');
  const logRetentionDays = s.integer('logRetentionDays');
  if (logRetentionDays !== undefined && !Object.values(logs.RetentionDays).includes(logRetentionDays)) {
    s.fail('logRetentionDays', `must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 180, 365, ...), got ${logRetentionDays}`);
  }
  const imageUri = s.string(
    'imageUri',
    IMAGE_REF,
    'an image reference with a tag or digest, such as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/scim-bridge:1.0.0',
  );

  const base = readBaseArgs(s);
  const settings: StackSettings = {
    bridge: {
      ...base,
      cpuArchitecture: cpuArchitecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : cpuArchitecture ? ecs.CpuArchitecture.X86_64 : undefined,
      natGateways: s.integer('natGateways'),
      targetRequestsPerMinute: s.integer('targetRequestsPerMinute'),
      allowedIngressCidrs: s.list('allowedIngressCidrs'),
      waf: s.boolean('waf'),
      wafRateLimit: s.integer('wafRateLimit'),
      sslPolicy: s.string('sslPolicy') as elbv2.SslPolicy | undefined,
      accessLogs: s.boolean('accessLogs'),
      logRetention: logRetentionDays as logs.RetentionDays | undefined,
      alarmEmail: s.string('alarmEmail'),
      exposeMetrics: s.boolean('exposeMetrics'),
      baseImage: s.string('baseImage'),
      webhooks: webhooks as ScimBridgeProps['webhooks'],
      deprovisionGuard: deprovisionGuard as ScimBridgeProps['deprovisionGuard'],
    },
    hostedZone: hostedZoneId ? { hostedZoneId, zoneName: hostedZoneName! } : undefined,
    certificateArn,
    sessionSecretArn,
    sessionSecretKmsKeyArn,
    googleCredentialsSecretArn,
    googleCredentialsKmsKeyArn,
    webhookSecretsArn,
    webhookSecretsKmsKeyArn,
    imageUri,
  };
  const stackName = s.string('stackName', /^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name') ?? 'ScimBridge';
  let stack: ScimBridgeStack;
  try {
    stack = new ScimBridgeStack(app, stackName, {
      // An explicit account makes CDK look up availability zones (credentials needed); region alone stays offline.
      env: { account, region },
      description: `SCIM bridge at ${base.domain} (ECS Fargate, ALB, RDS PostgreSQL)`,
      // Set by the CLI before the change set runs; the construct's termination guard lifts it again if the first
      // deploy rolls back, so the failed stack can be deleted and the deploy retried.
      terminationProtection: base.deletionProtection ?? true,
      settings,
      contextWarnings: s.warnings,
    });
  } catch (error) {
    if (error instanceof ArgError) {
      const key = CONTEXT_KEY_OF_PROP[error.arg.split(/[.[]/)[0]] ?? error.arg.replace(/\[\d+\]$/, '');
      throw new ContextError(key, error.message.slice(error.component.length + 2 + error.arg.length + 1));
    }
    throw error;
  }
  return stack;
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
