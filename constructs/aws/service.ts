/**
 * The service: ECS Fargate tasks of two containers. `db-bootstrap` runs `scim-bridge db bootstrap` once per task
 * with the administrator's URL and exits; only then (dependsOn SUCCESS) does `bridge` start, as the app's own role,
 * without the administrator's secret. Egress is HTTPS and the database port only.
 */
import { Aws, Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PORT, BRIDGE_PROBES, BRIDGE_SIZING } from '../../contract';
import { BOOTSTRAP_COMMAND, BOOTSTRAP_ENV, bridgeEnvironment, probePlan, type ResolvedBridgeArgs } from '../common';
import type { BridgeDatabase } from './database';
import { keepLogicalId } from './logical-ids';
import { type BridgeSecrets, grantSecretRead } from './secrets';

/**
 * Proxies in front of the bridge that append to X-Forwarded-For: the ALB, and only it. "By default, the Application
 * Load Balancer stores the IP address of the client in the X-Forwarded-For request header ... [it] appends the client
 * IP address to the existing header" (docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html),
 * so the client is the last address, one hop from the right; anything left of it was written by the client.
 */
export const ALB_PROXY_HOPS = 1;

export const CONTAINER_NAMES = { bridge: 'bridge', bootstrap: 'db-bootstrap' } as const;

export interface BridgeServiceProps {
  readonly vpc: ec2.IVpc;
  readonly base: ResolvedBridgeArgs;
  readonly image: ecs.ContainerImage;
  readonly cpuArchitecture: ecs.CpuArchitecture;
  readonly database: BridgeDatabase;
  readonly secrets: BridgeSecrets;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** Ports webhook deliveries need besides 443. */
  readonly webhookPorts: readonly number[];
}

export class BridgeService extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The bridge itself. */
  public readonly container: ecs.ContainerDefinition;
  /** The one-off `db bootstrap` step before it; the only container that holds the administrator's URL. */
  public readonly bootstrapContainer: ecs.ContainerDefinition;
  public readonly service: ecs.FargateService;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly logGroup: logs.LogGroup;
  public readonly scaling: ecs.ScalableTaskCount;

  constructor(scope: Construct, id: string, props: BridgeServiceProps) {
    super(scope, id);
    const { base, database, secrets } = props;
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy });
    keepLogicalId(this.logGroup, this.node.scope as Construct, ['Logs', 'Resource']);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: Math.round(base.cpu * 1024),
      memoryLimitMiB: base.memoryMiB,
      runtimePlatform: { cpuArchitecture: props.cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });

    const database_ = {
      [BRIDGE_ENV.databaseUrl]: database.appUrl,
      // The bridge reads the CA from PGSSLROOTCERT (libpq's variable); the URL carries sslrootcert as libpq reads it.
      [BRIDGE_ENV.pgSslRootCert]: BRIDGE_IMAGE.caBundles.awsRds,
    };
    const appPassword = { [BRIDGE_ENV.pgPassword]: ecs.Secret.fromSecretsManager(database.appSecret, 'password') };
    const common = {
      image: props.image,
      user: `${BRIDGE_IMAGE.uid}:${BRIDGE_IMAGE.gid}`,
      // With PostgreSQL as its store the bridge writes nothing to disk.
      readonlyRootFilesystem: true,
    };

    this.bootstrapContainer = this.taskDefinition.addContainer(CONTAINER_NAMES.bootstrap, {
      ...common,
      // A step, not a service: it must exit 0 (dependsOn SUCCESS), and SUCCESS cannot be set on an essential container.
      essential: false,
      command: [...BOOTSTRAP_COMMAND],
      environment: { ...database_, [BRIDGE_ENV.logLevel]: base.logLevel },
      secrets: {
        ...appPassword,
        [BOOTSTRAP_ENV.adminUrl]: ecs.Secret.fromSecretsManager(database.adminUrlSecret),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'bootstrap' }),
    });

    const environment: Record<string, string> = {
      ...bridgeEnvironment(base, { trustProxy: ALB_PROXY_HOPS }),
      ...database_,
      // The ARN is not secret: the bridge reads the secret through it and re-reads it to follow a token rotation.
      // No SCIM_SESSION: the document never sits in a task's environment.
      [BRIDGE_ENV.sessionAwsSecretArn]: secrets.session.secretArn,
      // The SDK client in the bridge needs a region to call Secrets Manager; do not rely on the platform's.
      AWS_REGION: Aws.REGION,
    };
    const secretEnv: Record<string, ecs.Secret> = { ...appPassword };
    if (secrets.googleCredentials) secretEnv[BRIDGE_ENV.googleCredentials] = ecs.Secret.fromSecretsManager(secrets.googleCredentials);
    // The signing secrets come from Secrets Manager through ECS, never as a plain value in the task definition.
    if (secrets.webhookSecrets) secretEnv[BRIDGE_ENV.webhookSecrets] = ecs.Secret.fromSecretsManager(secrets.webhookSecrets);

    // ECS ignores the image's HEALTHCHECK; this one replaces a wedged task. Shallow (/ping), so a database
    // outage never turns into task churn.
    const liveness = probePlan().liveness;
    this.container = this.taskDefinition.addContainer(CONTAINER_NAMES.bridge, {
      ...common,
      essential: true,
      portMappings: [{ containerPort: BRIDGE_PORT, name: 'http', protocol: ecs.Protocol.TCP }],
      environment,
      secrets: secretEnv,
      healthCheck: {
        command: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${BRIDGE_PORT}${liveness.path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`],
        interval: Duration.seconds(liveness.periodSeconds),
        timeout: Duration.seconds(liveness.timeoutSeconds),
        retries: liveness.failureThreshold,
        startPeriod: Duration.seconds(BRIDGE_PROBES.startupGraceSeconds),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'bridge' }),
      stopTimeout: Duration.seconds(BRIDGE_SIZING.shutdownGraceSeconds),
    });
    this.container.addContainerDependencies({ container: this.bootstrapContainer, condition: ecs.ContainerDependencyCondition.SUCCESS });

    // The task role (the bridge's own AWS calls) reads the scimsession and nothing else.
    grantSecretRead(secrets.session, this.taskDefinition.taskRole);
    // ECS reads the injected secrets with the execution role; a customer managed key needs kms:Decrypt there too.
    const executionRole = this.taskDefinition.obtainExecutionRole();
    if (secrets.googleCredentials) grantSecretRead(secrets.googleCredentials, executionRole);
    if (secrets.webhookSecrets) grantSecretRead(secrets.webhookSecrets, executionRole);
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken (pulling the image) supports no resource scope; every other permission of the execution role names its repository, log group or secret.',
    });
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds only non-secret settings (port, database URL without password, secret ARN, log level, proxy hops, ' +
        'webhook endpoints, guard thresholds, schema extensions); passwords, the admin URL and the webhook signing secrets are ECS secrets.',
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'SCIM bridge tasks: HTTP from the load balancer; out: HTTPS and PostgreSQL only',
      allowAllOutbound: false,
    });
    // Fargate (platform 1.4) pulls the image (ECR, and its layers from S3), reads secrets and ships logs through the
    // task's own interface, all over HTTPS; Google's APIs are HTTPS too. DNS to the VPC resolver is not filtered by
    // security groups (docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html), nor is the task metadata
    // endpoint that serves the task role's credentials.
    const https = 'HTTPS: ECR and S3 (image), Secrets Manager, CloudWatch Logs, Google APIs, webhooks';
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), https);
    // A webhook URL with a port of its own (https://host:8443/...) needs that port too.
    for (const port of props.webhookPorts) {
      this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `HTTPS to a webhook endpoint on port ${port}`);
    }
    database.instance.connections.allowDefaultPortFrom(this.securityGroup, 'PostgreSQL from the SCIM bridge tasks');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      // No DesiredCount: autoscaling owns the count. With one in the template, every deploy that touches the service
      // sets the count back to it, under load too (aws/containers-roadmap#493, aws/aws-cdk#3919). A new service starts
      // with 1 task (AWS::ECS::Service DesiredCount) and the scalable target raises it to minReplicas at once.
      desiredCount: undefined,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(BRIDGE_PROBES.startupGraceSeconds),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    this.service.node.addDependency(database.instance);

    this.scaling = this.service.autoScaleTaskCount({ minCapacity: base.minReplicas, maxCapacity: base.maxReplicas });
    this.scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: base.targetCpuPercent });
  }

  /** Also scale on ALB requests per task. */
  scaleOnRequests(targetGroup: elbv2.ApplicationTargetGroup, requestsPerTarget: number): void {
    this.scaling.scaleOnRequestCount('Requests', { requestsPerTarget, targetGroup });
  }
}
