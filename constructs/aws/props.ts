/**
 * The props of the AWS construct: the shared vocabulary (`ScimBridgeBaseArgs`) plus what only AWS has, resolved and
 * checked once. Every problem names the prop; a CDK token (a CfnParameter, an attribute) is passed through unchecked.
 */
import { Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { BRIDGE_SIZING } from '../../contract';
import { ArgError, checkWebhookSecrets, inZone, type ResolvedBridgeArgs, resolveBridgeArgs, type ScimBridgeBaseArgs, webhookPorts } from '../common';
import { rdsInstanceClass } from './instance-classes';

export const COMPONENT = 'ScimBridge';

export interface ScimBridgeProps extends ScimBridgeBaseArgs {
  /**
   * The Route 53 public hosted zone of `domain`: the certificate is validated and the alias record written there.
   * Leave it out when the domain's DNS is elsewhere (another provider, or a zone in another AWS account): then give
   * `certificate`, and create the records of the `dnsRecords` output yourself.
   * @default - no zone: DNS is managed elsewhere
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * An ACM certificate for `domain`, in the stack's region (issued or imported, validated however you like).
   * @default - a new certificate, validated by DNS in `hostedZone` (required when there is no hosted zone)
   */
  readonly certificate?: acm.ICertificate;

  /**
   * The scimsession secret. The bridge reads it itself (`SCIM_SESSION_AWS_SECRET_ARN`) and re-reads it for rotation.
   * An imported secret with a customer managed key must carry its `encryptionKey`: the task role is given
   * `kms:Decrypt` on that key through Secrets Manager only.
   * @default - a new, empty secret; put a scimsession into it with `scim-bridge session push-aws`
   */
  readonly sessionSecret?: secretsmanager.ISecret;

  /**
   * The Google Workspace service-account key (JSON), delivered to the bridge as `SCIM_GOOGLE_CREDENTIALS`.
   * Needed when `googleWorkspace` is set.
   * @default - none
   */
  readonly googleCredentials?: secretsmanager.ISecret;

  /**
   * The signing secrets of the declared `webhooks`: a secret whose value is a JSON map from endpoint name to secret
   * (`{"app":"whsec_..."}`), delivered to the bridge as `SCIM_WEBHOOK_SECRETS` by ECS (never a plain value). An
   * imported secret with a customer managed key must carry its `encryptionKey` (`kms:Decrypt` through Secrets Manager).
   * Needed when `webhooks` is set.
   * @default - none
   */
  readonly webhookSecrets?: secretsmanager.ISecret;

  /**
   * The bridge's container image.
   * @default - built from bridge/Dockerfile with the repository root as context, at deploy time
   */
  readonly image?: ecs.ContainerImage;

  /**
   * The base image of bridge/Dockerfile (its `NODE_IMAGE` build argument), pinned by digest. Set it to take a
   * patched base before the Dockerfile's own pin is bumped; a new value rebuilds and rolls the image.
   * @default - the digest pinned in bridge/Dockerfile
   */
  readonly baseImage?: string;

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
   * NAT gateways of the new VPC (tasks pull the image and read secrets through them). One per zone keeps new tasks
   * starting when a zone fails; 1 saves about $33 a month. Ignored when `vpc` is given.
   * @default 2 (one per availability zone)
   */
  readonly natGateways?: number;

  /**
   * ALB requests per task per minute that autoscaling keeps the service at (besides `targetCpuPercent`).
   * @default BRIDGE_SIZING.targetRequestsPerMinute (3000)
   */
  readonly targetRequestsPerMinute?: number;

  /**
   * IPv4 ranges allowed to reach the bridge (e.g. your identity provider's published egress ranges). Enforced by an
   * AWS WAF IP set (up to 10,000 ranges), not by security-group rules, which are limited to 60 per group.
   * @default - any address
   */
  readonly allowedIngressCidrs?: readonly string[];

  /**
   * Put an AWS WAF web ACL in front of the load balancer with a rate-based rule (about $7 a month). Always on when
   * `allowedIngressCidrs` is given.
   * @default false
   */
  readonly waf?: boolean;

  /**
   * Requests from one client address per 5 minutes above which the WAF blocks that address for a while.
   * @default 3000
   */
  readonly wafRateLimit?: number;

  /**
   * TLS policy of the HTTPS listener. Policies that allow TLS 1.0 or 1.1 are refused.
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
   * Retention of the CloudWatch log groups (bridge, database, VPC flow logs).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * An e-mail address subscribed to the alarm topic (it must confirm the subscription).
   * @default - no subscription (the topic is still created; see `alarmTopic`)
   */
  readonly alarmEmail?: string;

  /**
   * The topic the alarms notify.
   * @default - a new topic
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Let `/metrics` through the load balancer (the bridge still asks for the bearer token). Off, the listener answers
   * `/metrics` with 404 itself.
   * @default false
   */
  readonly exposeMetrics?: boolean;

  /**
   * Prefix of the CfnOutput logical ids (`scimBaseUrl`, `dnsRecords`, `nextSteps`, ...); set it when one stack holds
   * two bridges.
   * @default ''
   */
  readonly outputPrefix?: string;
}

/** Everything the children build from: the shared args resolved once, and the AWS-only props with their defaults. */
export interface ResolvedProps {
  readonly base: ResolvedBridgeArgs;
  readonly cpuArchitecture: ecs.CpuArchitecture;
  readonly natGateways: number;
  readonly targetRequestsPerMinute: number;
  readonly allowedIngressCidrs: readonly string[];
  readonly waf: boolean;
  readonly wafRateLimit: number;
  readonly sslPolicy: elbv2.SslPolicy;
  readonly accessLogs: boolean;
  readonly logRetention: logs.RetentionDays;
  readonly exposeMetrics: boolean;
  readonly alarmEmail?: string;
  readonly baseImage?: string;
  readonly outputPrefix: string;
  /** RDS instance class with its `db.` prefix. */
  readonly databaseClass: string;
  readonly databaseStorageGiB: number;
  /** Ports webhook deliveries need besides 443. */
  readonly webhookPorts: readonly number[];
}

export const DEFAULTS = {
  databaseSize: 't4g.micro',
  /** gp3's smallest volume. */
  databaseStorageGiB: 20,
  wafRateLimit: 3000,
  logRetention: logs.RetentionDays.ONE_MONTH,
  sslPolicy: elbv2.SslPolicy.TLS13_12_RES_PQ,
} as const;

/**
 * Fargate's CPU and memory combinations (MiB) for Linux tasks, as the ECS developer guide lists them
 * (docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html; TaskDefinition `memory`): a list
 * for the three smallest sizes, a range with its step for the others.
 */
export const FARGATE_MEMORY: Record<string, { readonly values?: readonly number[]; readonly min?: number; readonly max?: number; readonly step?: number }> = {
  '0.25': { values: [512, 1024, 2048] },
  '0.5': { values: [1024, 2048, 3072, 4096] },
  '1': { values: [2048, 3072, 4096, 5120, 6144, 7168, 8192] },
  '2': { min: 4096, max: 16384, step: 1024 },
  '4': { min: 8192, max: 30720, step: 1024 },
  '8': { min: 16384, max: 61440, step: 4096 },
  '16': { min: 32768, max: 122880, step: 8192 },
};

/** One row of the table in words, e.g. "512, 1024 or 2048 MiB" or "4096 to 16384 MiB in steps of 1024". */
export function fargateMemoryText(cpu: string): string {
  const row = FARGATE_MEMORY[cpu];
  if (row.values) return `${row.values.slice(0, -1).join(', ')} or ${row.values[row.values.length - 1]} MiB`;
  return `${row.min} to ${row.max} MiB in steps of ${row.step}`;
}

function fitsFargate(cpu: string, memoryMiB: number): boolean {
  const row = FARGATE_MEMORY[cpu];
  if (row.values) return row.values.includes(memoryMiB);
  return memoryMiB >= row.min! && memoryMiB <= row.max! && (memoryMiB - row.min!) % row.step! === 0;
}

const CIDR_V4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const IMAGE_BY_DIGEST = /^[a-z0-9.-]+(?::\d+)?(\/[a-z0-9._-]+)*(:[\w.-]+)?@sha256:[0-9a-f]{64}$/;
const INSTANCE_CLASS = /^(db\.)?[a-z][a-z0-9-]*\.[a-z0-9]+$/;
/** Listener policies that still accept TLS 1.0 or 1.1. */
const OLD_TLS = /TLS13-1-[01]-|TLS-1-[01]-|FS-1-1-|FS-2018-06|2016-08/;

export function resolveProps(props: ScimBridgeProps): ResolvedProps {
  const isUnresolved = (v: unknown) => Token.isUnresolved(v);
  const base = resolveBridgeArgs(props, { component: COMPONENT, isUnresolved, requiresOneReplica: true });
  const fail = (arg: string, problem: string): never => {
    throw new ArgError(COMPONENT, arg, problem);
  };
  const known = (v: unknown) => v !== undefined && !isUnresolved(v);

  // Fargate sizes.
  const cpuKey = String(base.cpu);
  const sizes = Object.keys(FARGATE_MEMORY)
    .map(Number)
    .sort((a, b) => a - b);
  if (known(base.cpu) && !FARGATE_MEMORY[cpuKey]) fail('cpu', `must be a Fargate size: ${sizes.join(', ')} vCPU, got ${base.cpu}`);
  if (FARGATE_MEMORY[cpuKey] && known(base.memoryMiB) && !fitsFargate(cpuKey, base.memoryMiB)) {
    fail('memoryMiB', `must be one Fargate allows with ${base.cpu} vCPU: ${fargateMemoryText(cpuKey)}, got ${base.memoryMiB}`);
  }

  // Hosting and DNS.
  if (!props.hostedZone && !props.certificate) {
    fail('certificate', 'is required when there is no hostedZone (DNS managed elsewhere): give an ACM certificate for the domain');
  }
  if (props.hostedZone && known(props.hostedZone.zoneName) && known(base.domain) && !inZone(base.domain, props.hostedZone.zoneName)) {
    fail('domain', `'${base.domain}' is not in the hosted zone '${props.hostedZone.zoneName.replace(/\.$/, '')}' (hostedZone)`);
  }

  const natGateways = props.natGateways ?? 2;
  if (known(natGateways) && (!Number.isInteger(natGateways) || natGateways < 1 || natGateways > 2)) {
    fail('natGateways', `must be 1 or 2 (the VPC spans 2 zones), got ${natGateways}`);
  }
  const targetRequestsPerMinute = props.targetRequestsPerMinute ?? BRIDGE_SIZING.targetRequestsPerMinute;
  if (known(targetRequestsPerMinute) && (!Number.isInteger(targetRequestsPerMinute) || targetRequestsPerMinute < 1)) {
    fail('targetRequestsPerMinute', `must be a whole number of at least 1, got ${targetRequestsPerMinute}`);
  }

  const allowedIngressCidrs = props.allowedIngressCidrs ?? [];
  allowedIngressCidrs.forEach((cidr, i) => {
    if (known(cidr) && !CIDR_V4.test(cidr)) fail(`allowedIngressCidrs[${i}]`, `must be an IPv4 CIDR such as 203.0.113.0/24, got '${cidr}'`);
  });
  if (allowedIngressCidrs.length > 10_000) fail('allowedIngressCidrs', `holds ${allowedIngressCidrs.length} ranges; a WAF IP set holds at most 10,000`);
  const wafRateLimit = props.wafRateLimit ?? DEFAULTS.wafRateLimit;
  if (known(wafRateLimit) && (!Number.isInteger(wafRateLimit) || wafRateLimit < 10 || wafRateLimit > 2_000_000_000)) {
    fail('wafRateLimit', `must be a whole number from 10 to 2000000000 requests per 5 minutes (AWS WAF's range), got ${wafRateLimit}`);
  }

  const sslPolicy = props.sslPolicy ?? DEFAULTS.sslPolicy;
  if (known(sslPolicy)) {
    if (!(Object.values(elbv2.SslPolicy) as string[]).includes(sslPolicy))
      fail('sslPolicy', `must be an ELB security policy name such as ${DEFAULTS.sslPolicy}, got '${sslPolicy}'`);
    if (OLD_TLS.test(sslPolicy)) fail('sslPolicy', `'${sslPolicy}' accepts TLS 1.0 or 1.1; choose a policy with TLS 1.2 or later (e.g. ${DEFAULTS.sslPolicy})`);
  }
  if (props.alarmEmail !== undefined && known(props.alarmEmail) && !EMAIL.test(props.alarmEmail))
    fail('alarmEmail', `must be an e-mail address, got '${props.alarmEmail}'`);
  if (props.baseImage !== undefined && known(props.baseImage) && !IMAGE_BY_DIGEST.test(props.baseImage)) {
    fail('baseImage', `must be an image pinned by digest, such as node:24-alpine@sha256:<64 hex digits>, got '${props.baseImage}'`);
  }
  if (props.baseImage !== undefined && props.image) fail('baseImage', 'only applies when the image is built from bridge/Dockerfile (no image given)');
  checkWebhookSecrets(COMPONENT, base.webhooks, props.webhookSecrets !== undefined);
  if (base.googleWorkspace && !props.googleCredentials)
    fail('googleCredentials', 'is required with googleWorkspace: a secret holding the service-account key JSON');
  const logRetention = props.logRetention ?? DEFAULTS.logRetention;
  if (known(logRetention) && logRetention === logs.RetentionDays.INFINITE) fail('logRetention', 'must be a number of days (the logs hold client addresses)');

  // Database: RDS sizes.
  const size = base.database.size ?? DEFAULTS.databaseSize;
  if (known(size) && !INSTANCE_CLASS.test(size)) fail('database.size', `must be an RDS instance class such as t4g.micro or db.m7g.large, got '${size}'`);
  const databaseStorageGiB = base.database.storageGiB ?? DEFAULTS.databaseStorageGiB;
  if (known(databaseStorageGiB) && databaseStorageGiB < 20)
    fail('database.storageGiB', `must be at least 20 (gp3's smallest volume), got ${databaseStorageGiB}`);

  return {
    base,
    cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
    natGateways,
    targetRequestsPerMinute,
    allowedIngressCidrs,
    waf: (props.waf ?? false) || allowedIngressCidrs.length > 0,
    wafRateLimit,
    sslPolicy,
    accessLogs: props.accessLogs ?? true,
    logRetention,
    exposeMetrics: props.exposeMetrics ?? false,
    alarmEmail: props.alarmEmail,
    baseImage: props.baseImage,
    outputPrefix: props.outputPrefix ?? '',
    databaseClass: known(size) ? rdsInstanceClass(size) : size,
    databaseStorageGiB,
    webhookPorts: webhookPorts(base.webhooks).filter((port) => port !== 443),
  };
}
