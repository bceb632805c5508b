/**
 * The SCIM bridge on ECS Fargate behind an HTTPS Application Load Balancer: the scimsession in Secrets Manager, a
 * private encrypted PostgreSQL the bridge reaches as its own role over verified TLS, DNS in Route 53 or elsewhere,
 * autoscaling, alarms, and a lifecycle that lets a failed first deploy roll back cleanly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnOutput, IgnoreMode, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BRIDGE_IMAGE } from '../../contract';
import { type DnsRecord, nextSteps, OUTPUT_NAMES, type ResolvedBridgeArgs, scimBaseUrl } from '../common';
import { BridgeAlarms } from './alarms';
import { BridgeDatabase } from './database';
import { BridgeFrontDoor } from './front-door';
import { BridgeLifecycle } from './lifecycle';
import { BridgeNetwork } from './network';
import { resolveProps, type ScimBridgeProps } from './props';
import { BridgeSecrets } from './secrets';
import { BridgeService, CONTAINER_NAMES } from './service';

/** The repository root: the bridge image's build context (bridge/Dockerfile copies from it). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Types CDK would tag whose tagging the CloudFormation schemas cfn-lint checks against do not have yet (E3002):
 * left untagged, so the template is valid for both. Their parents (load balancer, service) carry the tags.
 */
export const UNTAGGED_TYPES = [
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::ApplicationAutoScaling::ScalableTarget',
] as const;

/**
 * The image asset's exclude list: the contract's build context, then what the context's `.gitignore` ignores, as
 * Docker ignore patterns (the last match wins, so these come after the context's `!bridge/`). The asset hash is taken
 * over what is left: a file git ignores can neither change it nor reach the build.
 */
export function imageExcludes(context: string): string[] {
  const file = path.join(context, '.gitignore');
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split(/\r?\n/) : [];
  const ignored: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    let pattern = (negated ? line.slice(1) : line).replace(/\/+$/, '');
    // git: a pattern with a slash (other than at its end) is relative to the .gitignore; one without matches at any depth.
    pattern = pattern.includes('/') ? pattern.replace(/^\//, '') : `**/${pattern}`;
    ignored.push(`${negated ? '!' : ''}${pattern}`);
  }
  return [...BRIDGE_IMAGE.contextPatterns, ...ignored];
}

export class ScimBridge extends Construct {
  /** `https://<domain>/scim/v2`: what the identity provider is given. */
  public readonly scimBaseUrl: string;
  /** The records to create at the DNS provider; empty when the alias record is in the Route 53 zone. */
  public readonly dnsRecords: readonly DnsRecord[];
  /** What to do after the first deploy. */
  public readonly nextSteps: string;
  /** The args with their defaults, as the children were built from them. */
  public readonly args: ResolvedBridgeArgs;

  public readonly network: BridgeNetwork;
  public readonly secrets: BridgeSecrets;
  public readonly database: BridgeDatabase;
  public readonly service: BridgeService;
  public readonly frontDoor: BridgeFrontDoor;
  public readonly alarms: BridgeAlarms;
  public readonly lifecycle: BridgeLifecycle;

  // The important children, as ecs-patterns exposes them.
  public readonly vpc: ec2.IVpc;
  public readonly sessionSecret: secretsmanager.ISecret;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly certificate: acm.ICertificate;
  public readonly alarmTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: ScimBridgeProps) {
    super(scope, id);
    const p = resolveProps(props);
    this.args = p.base;
    const protect = p.base.deletionProtection;
    // Kept on delete while protected; always removed when the stack's own creation rolls back.
    const keep = protect ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;

    // First: every other child depends on the lifecycle's termination guard (created first, deleted last).
    this.lifecycle = new BridgeLifecycle(this, 'Lifecycle', { logRetention: p.logRetention });
    this.network = new BridgeNetwork(this, 'Network', { vpc: props.vpc, natGateways: p.natGateways, logRetention: p.logRetention, logRemovalPolicy: keep });
    this.secrets = new BridgeSecrets(this, 'Secrets', {
      domain: p.base.domain,
      sessionSecret: props.sessionSecret,
      googleCredentials: props.googleCredentials,
      webhookSecrets: props.webhookSecrets,
      removalPolicy: keep,
    });
    this.database = new BridgeDatabase(this, 'Database', {
      vpc: this.network.vpc,
      subnets: this.network.databaseSubnets,
      database: p.base.database,
      instanceClass: p.databaseClass,
      storageGiB: p.databaseStorageGiB,
      maxReplicas: p.base.maxReplicas,
      deletionProtection: protect,
      logRetention: p.logRetention,
    });
    this.service = new BridgeService(this, 'Service', {
      vpc: this.network.vpc,
      base: p.base,
      image: props.image ?? this.buildImage(p.base, p.cpuArchitecture, p.baseImage),
      cpuArchitecture: p.cpuArchitecture,
      database: this.database,
      secrets: this.secrets,
      logRetention: p.logRetention,
      logRemovalPolicy: keep,
      webhookPorts: p.webhookPorts,
    });
    this.frontDoor = new BridgeFrontDoor(this, 'FrontDoor', {
      vpc: this.network.vpc,
      domain: p.base.domain,
      hostedZone: props.hostedZone,
      certificate: props.certificate,
      sslPolicy: p.sslPolicy,
      accessLogs: p.accessLogs,
      accessLogsBucket: props.accessLogsBucket,
      allowedIngressCidrs: p.allowedIngressCidrs,
      waf: p.waf,
      wafRateLimit: p.wafRateLimit,
      exposeMetrics: p.exposeMetrics,
      deletionProtection: protect,
      dataRemovalPolicy: keep,
      lifecycle: this.lifecycle,
    });
    this.targetGroup = this.frontDoor.addService(this.service.service, CONTAINER_NAMES.bridge);
    this.service.scaleOnRequests(this.targetGroup, p.targetRequestsPerMinute);
    this.alarms = new BridgeAlarms(this, 'Alarms', {
      loadBalancer: this.frontDoor.loadBalancer,
      targetGroup: this.targetGroup,
      service: this.service.service,
      database: this.database.instance,
      databaseStorageGiB: p.databaseStorageGiB,
      databaseMaxConnections: this.database.maxConnections,
      topic: props.alarmTopic,
      email: p.alarmEmail,
      logGroup: this.service.logGroup,
    });
    for (const child of [this.network, this.secrets, this.database, this.service, this.frontDoor, this.alarms]) {
      child.node.addDependency(this.lifecycle.terminationGuard);
    }
    // Deletion protection goes on once the service is stable (CloudFormation waits for that): a first deploy that
    // fails before can still delete the instance. Turned off again by the same step when deletionProtection is off.
    this.lifecycle.protectDatabase(this.database.instanceIdentifier, protect, [this.service.service, this.database.instance]);
    const change = { version: p.base.database.version, storageGiB: p.databaseStorageGiB };
    this.lifecycle.checkDatabaseChange(this.database.instanceIdentifier, change, this.database.instance);

    for (const [key, value] of Object.entries(p.base.tags)) Tags.of(this).add(key, value, { excludeResourceTypes: [...UNTAGGED_TYPES] });

    this.vpc = this.network.vpc;
    this.sessionSecret = this.secrets.session;
    this.loadBalancer = this.frontDoor.loadBalancer;
    this.certificate = this.frontDoor.certificate;
    this.alarmTopic = this.alarms.topic;
    this.scimBaseUrl = scimBaseUrl(p.base.domain);
    this.dnsRecords = this.frontDoor.dnsRecords;
    this.nextSteps = nextSteps({
      baseUrl: this.scimBaseUrl,
      loadSession: `Put it into Secrets Manager: npx scim-bridge session push-aws --secret-id ${this.sessionSecret.secretArn} --session-file scimsession (the bridge reads the secret within a minute; no redeploy)`,
      dnsToCreate: this.dnsRecords,
    });
    this.outputs(p.outputPrefix);
  }

  private outputs(prefix: string): void {
    const output = (id: string, value: string, description: string) => {
      const o = new CfnOutput(this, id, { value, description });
      o.overrideLogicalId(`${prefix}${id}`);
    };
    output(OUTPUT_NAMES.scimBaseUrl, this.scimBaseUrl, 'SCIM base URL to give the identity provider');
    output(
      OUTPUT_NAMES.dnsRecords,
      Stack.of(this).toJsonString(this.dnsRecords),
      'DNS records to create at your DNS provider (JSON; [] when Route 53 holds them)',
    );
    output(OUTPUT_NAMES.nextSteps, this.nextSteps, 'What to do after the first deploy');
    output('sessionSecretArn', this.sessionSecret.secretArn, 'Secrets Manager secret that holds the scimsession');
    output('loadBalancerDnsName', this.loadBalancer.loadBalancerDnsName, 'DNS name of the load balancer');
    output('alarmTopicArn', this.alarmTopic.topicArn, 'SNS topic the alarms notify');
  }

  private buildImage(base: ResolvedBridgeArgs, cpuArchitecture: ecs.CpuArchitecture, baseImage?: string): ecs.ContainerImage {
    const context = base.buildContext ?? REPO_ROOT;
    return ecs.ContainerImage.fromAsset(context, {
      file: base.dockerfile ?? BRIDGE_IMAGE.dockerfile,
      platform: cpuArchitecture === ecs.CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      ignoreMode: IgnoreMode.DOCKER,
      // Only what bridge/Dockerfile copies, so an edit to docs or IaC code does not rebuild and roll the image; and
      // nothing git ignores (a local bridge/data/bridge.db, a build's dist/), so a deploy from a laptop builds the
      // image a clean clone builds. (A context of your own keeps its own .dockerignore.)
      exclude: base.buildContext === undefined ? imageExcludes(REPO_ROOT) : undefined,
      // A new base digest is a new asset hash: the image is rebuilt and the service rolls to it.
      buildArgs: baseImage ? { NODE_IMAGE: baseImage } : undefined,
    });
  }
}
