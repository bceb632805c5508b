import * as path from 'node:path';
import { CfnOutput, CfnResource, Duration, IgnoreMode, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  BRIDGE_DEFAULTS,
  BRIDGE_ENV,
  BRIDGE_IMAGE,
  BRIDGE_PATHS,
  BRIDGE_PORT,
  BRIDGE_PROBES,
  BRIDGE_SIZING,
  nextSteps,
  scimBaseUrl,
} from '../../contract';

/** The repository root: the bridge image's build context (bridge/Dockerfile copies from it). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');


export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ScimBridgeProps {
  /** Public host name identity providers call, e.g. `scim.example.com`. Must lie in `hostedZone`. */
  readonly domainName: string;

  /** The Route 53 public hosted zone of `domainName`: the certificate is validated and the alias record written there. */
  readonly hostedZone: route53.IHostedZone;

  /**
   * The scimsession secret. Its value is put there with `scim-bridge session push-aws`.
   * @default - a new secret holding a placeholder; the tasks start once a scimsession is put into it
   */
  readonly sessionSecret?: secretsmanager.ISecret;

  /**
   * The bridge's container image.
   * @default - built from bridge/Dockerfile with the repository root as context, at deploy time
   */
  readonly image?: ecs.ContainerImage;

  /**
   * CPU architecture of the tasks (and of the image built from bridge/Dockerfile).
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;

  /**
   * VPC to run in. Needs public subnets (load balancer), private subnets with egress (tasks) and isolated or
   * private subnets (database).
   * @default - a new VPC across 2 availability zones
   */
  readonly vpc?: ec2.IVpc;

  /**
   * NAT gateways of the new VPC (the tasks reach ECR, Secrets Manager and CloudWatch Logs through them).
   * Ignored when `vpc` is given.
   * @default 1
   */
  readonly natGateways?: number;

  /**
   * vCPU per task (a Fargate size: 0.25, 0.5, 1, 2, 4, 8 or 16).
   * @default BRIDGE_SIZING.cpu (0.5)
   */
  readonly cpu?: number;

  /**
   * Memory per task in MiB (must fit the Fargate table for `cpu`).
   * @default BRIDGE_SIZING.memoryMiB (1024)
   */
  readonly memoryMiB?: number;

  /**
   * Fewest tasks; two keep a deploy or a zone outage from interrupting provisioning.
   * @default BRIDGE_SIZING.minReplicas (2)
   */
  readonly minTasks?: number;

  /**
   * Most tasks autoscaling may run.
   * @default BRIDGE_SIZING.maxReplicas (6)
   */
  readonly maxTasks?: number;

  /**
   * Average CPU utilisation (percent) autoscaling keeps the service at.
   * @default BRIDGE_SIZING.targetCpuPercent (60)
   */
  readonly targetCpuPercent?: number;

  /**
   * ALB requests per task per minute autoscaling keeps the service at.
   * @default BRIDGE_SIZING.targetRequestsPerMinute (3000)
   */
  readonly targetRequestsPerMinute?: number;

  /**
   * CIDR ranges allowed to reach the load balancer (e.g. your identity provider's published egress ranges).
   * @default ['0.0.0.0/0']
   */
  readonly allowedIngressCidrs?: string[];

  /**
   * TLS policy of the HTTPS listener.
   * @default elbv2.SslPolicy.TLS13_12_RES_PQ (TLS 1.3, TLS 1.2 with forward-secret AEAD ciphers only, post-quantum hybrid key exchange)
   */
  readonly sslPolicy?: elbv2.SslPolicy;

  /**
   * Write ALB access logs to S3. Needs a stack with a concrete region (`env.region`).
   * @default true
   */
  readonly accessLogs?: boolean;

  /**
   * Bucket for ALB access logs (S3-managed encryption; KMS keys are not supported by ALB logging).
   * @default - a new private bucket whose logs expire after 90 days
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * Retention of the bridge's and the VPC flow logs' CloudWatch log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Email domains that may be provisioned (SCIM_ALLOWED_DOMAINS).
   * @default - any domain
   */
  readonly allowedDomains?: string[];

  /**
   * The bridge's log level (LOG_LEVEL).
   * @default - the bridge's default ('info')
   */
  readonly logLevel?: LogLevel;

  /**
   * Instance class of the PostgreSQL database.
   * @default ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO)
   */
  readonly databaseInstanceType?: ec2.InstanceType;

  /**
   * PostgreSQL major version.
   * @default rds.PostgresEngineVersion.VER_17
   */
  readonly databaseEngineVersion?: rds.PostgresEngineVersion;

  /**
   * Run the database with a synchronous standby in a second zone.
   * @default true
   */
  readonly databaseMultiAz?: boolean;

  /**
   * Days of automated backups (point-in-time recovery), 1 to 35.
   * @default 7
   */
  readonly databaseBackupRetentionDays?: number;

  /**
   * Initial storage of the database in GiB (it grows automatically up to 5 times this).
   * @default 20
   */
  readonly databaseAllocatedStorageGiB?: number;

  /**
   * Refuse to delete the database (a `cdk destroy` keeps it until this is turned off).
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The SCIM bridge on ECS Fargate behind an HTTPS Application Load Balancer, with its scimsession in Secrets
 * Manager, a private encrypted PostgreSQL, a DNS alias for `domainName`, and autoscaling on CPU and requests.
 */
export class ScimBridge extends Construct {
  /** `https://<domainName>/scim/v2`: what the identity provider is given. */
  public readonly scimBaseUrl: string;
  public readonly vpc: ec2.IVpc;
  public readonly cluster: ecs.Cluster;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly service: ecs.FargateService;
  public readonly serviceSecurityGroup: ec2.SecurityGroup;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly httpsListener: elbv2.ApplicationListener;
  public readonly httpListener: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly certificate: acm.Certificate;
  public readonly aliasRecord: route53.ARecord;
  /** The scimsession secret (imported or created). */
  public readonly sessionSecret: secretsmanager.ISecret;
  public readonly database: rds.DatabaseInstance;
  public readonly databaseSecret: secretsmanager.ISecret;
  public readonly databaseSecurityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  public readonly accessLogsBucket?: s3.IBucket;
  public readonly scaling: ecs.ScalableTaskCount;

  constructor(scope: Construct, id: string, props: ScimBridgeProps) {
    super(scope, id);
    const p = resolveProps(props);
    validate(p, props.hostedZone);
    const stack = Stack.of(this);
    if (p.accessLogs && Token.isUnresolved(stack.region)) {
      throw new Error(
        'ScimBridge: accessLogs needs a stack with a concrete region (env.region) so the load balancer may write to S3; set the region or accessLogs: false',
      );
    }
    this.scimBaseUrl = scimBaseUrl(props.domainName);

    // --- Network -------------------------------------------------------------------------------------------
    if (props.vpc) {
      this.vpc = props.vpc;
    } else {
      const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', { retention: p.logRetention });
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: p.natGateways,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
          { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        ],
      });
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      this.vpc = vpc;
    }

    // --- Secrets -------------------------------------------------------------------------------------------
    if (props.sessionSecret) {
      this.sessionSecret = props.sessionSecret;
    } else {
      // No value goes into the template: Secrets Manager generates a placeholder that is not a scimsession.
      // The bridge will not start on it, so the operator pushes the real one while the database is created
      // (the service waits for the database); docs/aws.md also shows creating the secret before the deploy.
      const secret = new secretsmanager.Secret(this, 'SessionSecret', {
        description: `scimsession of the SCIM bridge at ${props.domainName}; put one with: scim-bridge session push-aws`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ placeholder: 'no scimsession yet: run scim-bridge session push-aws' }),
          generateStringKey: 'nonce',
          excludePunctuation: true,
        },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The scimsession is rotated by an administrator (scim-bridge session rotate + push-aws), because the new bearer token must be pasted into the identity provider; a rotation Lambda cannot do that.',
      });
      this.sessionSecret = secret;
    }

    // --- Database ------------------------------------------------------------------------------------------
    this.databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc: this.vpc,
      description: 'SCIM bridge PostgreSQL: reachable only from the bridge tasks',
      allowAllOutbound: false,
    });
    const dbSubnetType = this.vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS;
    this.database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: p.databaseEngineVersion }),
      instanceType: p.databaseInstanceType,
      vpc: this.vpc,
      vpcSubnets: { subnetType: dbSubnetType },
      securityGroups: [this.databaseSecurityGroup],
      credentials: rds.Credentials.fromGeneratedSecret(BRIDGE_DEFAULTS.databaseUser),
      databaseName: BRIDGE_DEFAULTS.databaseName,
      multiAz: p.databaseMultiAz,
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: p.databaseAllocatedStorageGiB,
      maxAllocatedStorage: p.databaseAllocatedStorageGiB * 5,
      backupRetention: Duration.days(p.databaseBackupRetentionDays),
      deletionProtection: p.deletionProtection,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
    this.databaseSecret = this.database.secret!;
    // A bare major version lets RDS pick the current minor, which stays creatable while pinned minors age out;
    // cfn-lint's data lists the bare major as both valid (E3691) and deprecated (W3691).
    (this.database.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3691'] } });
    Validations.of(this.database).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The default port 5432 is kept: the database is in isolated subnets and its security group admits only the bridge tasks, so a non-default port adds no protection.',
    });
    if (!p.databaseMultiAz) {
      Validations.of(this.database).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason: 'Single-AZ was chosen explicitly (databaseMultiAz: false) to save cost; backups still allow recovery.',
      });
    }
    // The generated secret is a child of the instance (`database.secret` is its target attachment).
    Validations.of(this.database).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'ECS injects the password at task start, so an automatic rotation would break new connections of running tasks; rotate by updating the secret and redeploying the service.',
    });

    // --- Compute -------------------------------------------------------------------------------------------
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: p.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: Math.round(p.cpu * 1024),
      memoryLimitMiB: p.memoryMiB,
      runtimePlatform: { cpuArchitecture: p.cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const image =
      props.image ??
      ecs.ContainerImage.fromAsset(REPO_ROOT, {
        file: BRIDGE_IMAGE.dockerfile,
        platform: p.cpuArchitecture === ecs.CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        // Only what bridge/Dockerfile copies, so an edit to docs or IaC code does not rebuild and roll the image.
        exclude: [...BRIDGE_IMAGE.contextPatterns],
      });

    const databaseUrl =
      `postgres://${BRIDGE_DEFAULTS.databaseUser}@${this.database.dbInstanceEndpointAddress}:` +
      `${this.database.dbInstanceEndpointPort}/${BRIDGE_DEFAULTS.databaseName}?sslmode=require`;
    const environment: Record<string, string> = {
      [BRIDGE_ENV.port]: String(BRIDGE_PORT),
      [BRIDGE_ENV.databaseUrl]: databaseUrl,
      // The ARN is not secret: the bridge re-reads the secret through it to follow a token rotation.
      [BRIDGE_ENV.sessionAwsSecretArn]: this.sessionSecret.secretArn,
      // The SDK client in the bridge needs a region to call Secrets Manager; do not rely on the platform's.
      AWS_REGION: stack.region,
    };
    if (p.allowedDomains.length > 0) environment[BRIDGE_ENV.allowedDomains] = p.allowedDomains.join(',');
    if (props.logLevel) environment[BRIDGE_ENV.logLevel] = props.logLevel;

    this.container = this.taskDefinition.addContainer('bridge', {
      image,
      essential: true,
      user: `${BRIDGE_IMAGE.uid}:${BRIDGE_IMAGE.gid}`,
      // With PostgreSQL as its store the bridge writes nothing to disk.
      readonlyRootFilesystem: true,
      portMappings: [{ containerPort: BRIDGE_PORT, name: 'http', protocol: ecs.Protocol.TCP }],
      environment,
      secrets: {
        [BRIDGE_ENV.session]: ecs.Secret.fromSecretsManager(this.sessionSecret),
        [BRIDGE_ENV.pgPassword]: ecs.Secret.fromSecretsManager(this.databaseSecret, 'password'),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'bridge' }),
      stopTimeout: Duration.seconds(BRIDGE_SIZING.shutdownGraceSeconds),
    });
    // The bridge itself re-reads the session secret (rotation without restart): the task role may read it, nothing else.
    this.sessionSecret.grantRead(this.taskDefinition.taskRole);
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken (pulling the image) supports no resource scope; every other permission of the execution role names its repository, log group or secret.',
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds only non-secret settings (port, database host URL without password, secret ARN, log level); the scimsession and the database password are injected as ECS secrets.',
    });

    this.serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc: this.vpc,
      description: 'SCIM bridge tasks: HTTP from the load balancer only',
      // Tasks call ECR, Secrets Manager, CloudWatch Logs (HTTPS) and PostgreSQL; no listener is exposed.
      allowAllOutbound: true,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: p.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(BRIDGE_PROBES.startupGraceSeconds),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.serviceSecurityGroup],
      assignPublicIp: false,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    this.database.connections.allowDefaultPortFrom(this.serviceSecurityGroup, 'PostgreSQL from the SCIM bridge tasks');

    // --- Load balancer, TLS and DNS ------------------------------------------------------------------------
    const albSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'SCIM bridge load balancer: HTTPS (and HTTP, redirected) from the allowed ranges',
      allowAllOutbound: false,
    });
    for (const cidr of p.allowedIngressCidrs) {
      albSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from identity providers');
      albSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(80), 'HTTP, redirected to HTTPS');
    }
    if (p.allowedIngressCidrs.includes('0.0.0.0/0')) {
      Validations.of(albSecurityGroup).acknowledge({
        id: 'AwsSolutions-EC23',
        reason:
          'The SCIM endpoint is public on purpose: SaaS identity providers (Okta, Entra ID) call it from wide, changing address ranges; every request needs a bearer token. Narrow it with allowedIngressCidrs.',
      });
    }
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
    });
    if (p.accessLogs) {
      this.accessLogsBucket =
        props.accessLogsBucket ??
        (() => {
          const bucket = new s3.Bucket(this, 'AccessLogs', {
            encryption: s3.BucketEncryption.S3_MANAGED,
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforceSSL: true,
            lifecycleRules: [{ expiration: Duration.days(90) }],
            removalPolicy: RemovalPolicy.RETAIN,
          });
          Validations.of(bucket).acknowledge({
            id: 'AwsSolutions-S1',
            reason: 'This bucket holds the load balancer access logs; logging access to the log bucket itself would need yet another bucket.',
          });
          return bucket;
        })();
      this.loadBalancer.logAccessLogs(this.accessLogsBucket, 'scim-bridge');
    }

    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: props.domainName,
      validation: acm.CertificateValidation.fromDns(props.hostedZone),
    });
    this.httpsListener = this.loadBalancer.addListener('Https', {
      protocol: elbv2.ApplicationProtocol.HTTPS,
      port: 443,
      certificates: [this.certificate],
      sslPolicy: p.sslPolicy,
      open: false,
    });
    this.httpListener = this.loadBalancer.addRedirect({
      sourceProtocol: elbv2.ApplicationProtocol.HTTP,
      sourcePort: 80,
      targetProtocol: elbv2.ApplicationProtocol.HTTPS,
      targetPort: 443,
      open: false,
    });
    this.targetGroup = this.httpsListener.addTargets('Bridge', {
      protocol: elbv2.ApplicationProtocol.HTTP,
      port: BRIDGE_PORT,
      targets: [this.service.loadBalancerTarget({ containerName: this.container.containerName, containerPort: BRIDGE_PORT })],
      // A failing check replaces the task, so it must not depend on the database: liveness, not readiness.
      healthCheck: {
        path: BRIDGE_PATHS.liveness,
        healthyHttpCodes: '200',
        interval: Duration.seconds(BRIDGE_PROBES.intervalSeconds),
        timeout: Duration.seconds(BRIDGE_PROBES.timeoutSeconds),
        healthyThresholdCount: BRIDGE_PROBES.healthyThreshold,
        unhealthyThresholdCount: BRIDGE_PROBES.unhealthyThreshold,
      },
      deregistrationDelay: Duration.seconds(BRIDGE_SIZING.shutdownGraceSeconds),
    });

    this.aliasRecord = new route53.ARecord(this, 'AliasRecord', {
      zone: props.hostedZone,
      recordName: props.domainName,
      target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(this.loadBalancer)),
    });

    // --- Autoscaling ---------------------------------------------------------------------------------------
    this.scaling = this.service.autoScaleTaskCount({ minCapacity: p.minTasks, maxCapacity: p.maxTasks });
    this.scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: p.targetCpuPercent });
    this.scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: p.targetRequestsPerMinute,
      targetGroup: this.targetGroup,
    });

    // --- Outputs -------------------------------------------------------------------------------------------
    new CfnOutput(this, 'ScimBaseUrl', {
      description: 'SCIM base URL to give the identity provider',
      value: this.scimBaseUrl,
    });
    new CfnOutput(this, 'SessionSecretArn', {
      description: 'Secrets Manager secret that holds the scimsession',
      value: this.sessionSecret.secretArn,
    });
    new CfnOutput(this, 'NextSteps', {
      description: 'What to do after the first deploy',
      value: nextSteps(
        this.scimBaseUrl,
        `Put it into Secrets Manager: npx scim-bridge session push-aws --secret-id ${this.sessionSecret.secretArn} --session-file scimsession (the bridge re-reads the secret; no redeploy needed)`,
      ),
    });
  }
}

type ResolvedProps = Required<
  Pick<
    ScimBridgeProps,
    | 'cpuArchitecture'
    | 'natGateways'
    | 'cpu'
    | 'memoryMiB'
    | 'minTasks'
    | 'maxTasks'
    | 'targetCpuPercent'
    | 'targetRequestsPerMinute'
    | 'allowedIngressCidrs'
    | 'sslPolicy'
    | 'accessLogs'
    | 'logRetention'
    | 'allowedDomains'
    | 'databaseInstanceType'
    | 'databaseEngineVersion'
    | 'databaseMultiAz'
    | 'databaseBackupRetentionDays'
    | 'databaseAllocatedStorageGiB'
    | 'deletionProtection'
  >
> & { domainName: string };

function resolveProps(props: ScimBridgeProps): ResolvedProps {
  return {
    domainName: props.domainName,
    cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
    natGateways: props.natGateways ?? 1,
    cpu: props.cpu ?? BRIDGE_SIZING.cpu,
    memoryMiB: props.memoryMiB ?? BRIDGE_SIZING.memoryMiB,
    minTasks: props.minTasks ?? BRIDGE_SIZING.minReplicas,
    maxTasks: props.maxTasks ?? BRIDGE_SIZING.maxReplicas,
    targetCpuPercent: props.targetCpuPercent ?? BRIDGE_SIZING.targetCpuPercent,
    targetRequestsPerMinute: props.targetRequestsPerMinute ?? BRIDGE_SIZING.targetRequestsPerMinute,
    allowedIngressCidrs: props.allowedIngressCidrs ?? ['0.0.0.0/0'],
    sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.TLS13_12_RES_PQ,
    accessLogs: props.accessLogs ?? true,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    allowedDomains: props.allowedDomains ?? [],
    databaseInstanceType:
      props.databaseInstanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    databaseEngineVersion: props.databaseEngineVersion ?? rds.PostgresEngineVersion.VER_17,
    databaseMultiAz: props.databaseMultiAz ?? true,
    databaseBackupRetentionDays: props.databaseBackupRetentionDays ?? 7,
    databaseAllocatedStorageGiB: props.databaseAllocatedStorageGiB ?? 20,
    deletionProtection: props.deletionProtection ?? true,
  };
}

const FARGATE_CPU = [0.25, 0.5, 1, 2, 4, 8, 16];
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CIDR_V4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;

function validate(p: ResolvedProps, zone: route53.IHostedZone): void {
  const fail = (prop: string, why: string): never => {
    throw new Error(`ScimBridge: ${prop} ${why}`);
  };
  const integer = (prop: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      fail(prop, `must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, got ${value}`);
    }
  };

  if (Token.isUnresolved(p.domainName) || !HOST_NAME.test(p.domainName)) {
    fail('domainName', `must be a lower-case DNS host name such as scim.example.com, got '${p.domainName}'`);
  }
  if (!Token.isUnresolved(zone.zoneName)) {
    const zoneName = zone.zoneName.replace(/\.$/, '').toLowerCase();
    if (p.domainName !== zoneName && !p.domainName.endsWith(`.${zoneName}`)) {
      fail('domainName', `'${p.domainName}' is not in the hosted zone '${zoneName}' (hostedZone)`);
    }
  }
  integer('natGateways', p.natGateways, 1, 2);
  if (!FARGATE_CPU.includes(p.cpu)) fail('cpu', `must be one of ${FARGATE_CPU.join(', ')} vCPU, got ${p.cpu}`);
  integer('memoryMiB', p.memoryMiB, 512, 122_880);
  integer('minTasks', p.minTasks, 1);
  integer('maxTasks', p.maxTasks, 1);
  if (p.maxTasks < p.minTasks) fail('maxTasks', `(${p.maxTasks}) must not be below minTasks (${p.minTasks})`);
  integer('targetCpuPercent', p.targetCpuPercent, 10, 90);
  integer('targetRequestsPerMinute', p.targetRequestsPerMinute, 1);
  if (p.allowedIngressCidrs.length === 0) fail('allowedIngressCidrs', 'must name at least one range');
  for (const cidr of p.allowedIngressCidrs) {
    if (!CIDR_V4.test(cidr)) fail('allowedIngressCidrs', `holds '${cidr}', which is not an IPv4 CIDR such as 203.0.113.0/24`);
  }
  for (const domain of p.allowedDomains) {
    if (!HOST_NAME.test(domain)) fail('allowedDomains', `holds '${domain}', which is not a lower-case domain name`);
  }
  integer('databaseBackupRetentionDays', p.databaseBackupRetentionDays, 1, 35);
  integer('databaseAllocatedStorageGiB', p.databaseAllocatedStorageGiB, 20, 65_536);
}
