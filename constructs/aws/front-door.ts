/**
 * The front door: an internet-facing ALB (HTTPS with an ACM certificate, HTTP redirected), `/metrics` answered at
 * the listener, access logs, an optional AWS WAF web ACL (allow-list as an IP set, a rate-based rule), and DNS: an
 * alias record in the Route 53 zone, or the records to create elsewhere (`dnsRecords`).
 */
import { Duration, type RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { BRIDGE_PATHS, BRIDGE_PORT, BRIDGE_SIZING } from '../../contract';
import { type DnsRecord, probePlan } from '../common';
import type { BridgeLifecycle } from './lifecycle';
import { keepLogicalId } from './logical-ids';

export interface BridgeFrontDoorProps {
  readonly vpc: ec2.IVpc;
  readonly domain: string;
  readonly hostedZone?: route53.IHostedZone;
  readonly certificate?: acm.ICertificate;
  readonly sslPolicy: elbv2.SslPolicy;
  readonly accessLogs: boolean;
  readonly accessLogsBucket?: s3.IBucket;
  readonly allowedIngressCidrs: readonly string[];
  readonly waf: boolean;
  readonly wafRateLimit: number;
  readonly exposeMetrics: boolean;
  readonly deletionProtection: boolean;
  readonly dataRemovalPolicy: RemovalPolicy;
  readonly lifecycle: BridgeLifecycle;
}

export class BridgeFrontDoor extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly httpsListener: elbv2.ApplicationListener;
  public readonly httpListener: elbv2.ApplicationListener;
  public readonly certificate: acm.ICertificate;
  public readonly accessLogsBucket?: s3.IBucket;
  public readonly aliasRecord?: route53.ARecord;
  public readonly webAcl?: wafv2.CfnWebACL;
  /** Records to create at the DNS provider (empty when the alias record is in the Route 53 zone). */
  public readonly dnsRecords: DnsRecord[];
  public targetGroup!: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: BridgeFrontDoorProps) {
    super(scope, id);
    if (props.accessLogs && Token.isUnresolved(Stack.of(this).region)) {
      throw new Error(
        'ScimBridge: accessLogs needs a stack with a concrete region (env.region) so the load balancer may write to S3; set the region or accessLogs: false',
      );
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'SCIM bridge load balancer: HTTPS, and HTTP redirected to it',
      allowAllOutbound: false,
    });
    // Open at the network layer; an allow-list is enforced by the WAF's IP set, which holds up to 10,000 ranges
    // where a security group holds 60 rules (two per range here).
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS');
    this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP, redirected to HTTPS');
    Validations.of(this.securityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        props.allowedIngressCidrs.length > 0
          ? 'The allow-list (allowedIngressCidrs) is enforced by the AWS WAF web ACL on the load balancer, whose IP set has room for the ranges identity providers publish.'
          : 'The SCIM endpoint is public on purpose: SaaS identity providers (Okta, Entra ID) call it from wide, changing address ranges; every request needs a bearer token. Narrow it with allowedIngressCidrs.',
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
      // Stated, not left to the default: the bridge trusts exactly the one hop this mode adds (SCIM_TRUST_PROXY=1).
      xffHeaderProcessingMode: elbv2.XffHeaderProcessingMode.APPEND,
    });

    if (props.accessLogs) {
      this.accessLogsBucket = props.accessLogsBucket ?? this.createLogsBucket(props);
      this.loadBalancer.logAccessLogs(this.accessLogsBucket, 'scim-bridge');
    } else {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'AwsSolutions-ELB2',
        reason: 'accessLogs: false was chosen; the bridge still logs every request (JSON lines in CloudWatch Logs).',
      });
    }

    // What held state or a name in the earlier layout keeps its logical id there (constructs/aws/logical-ids.ts): a
    // new id for the alias record would be created beside the old one and fail with "already exists".
    const root = this.node.scope as Construct;
    if (props.certificate) {
      this.certificate = props.certificate;
    } else {
      const certificate = new acm.Certificate(this, 'Certificate', {
        domainName: props.domain,
        validation: acm.CertificateValidation.fromDns(props.hostedZone),
      });
      keepLogicalId(certificate, root, ['Certificate', 'Resource']);
      this.certificate = certificate;
    }
    this.httpsListener = this.loadBalancer.addListener('Https', {
      protocol: elbv2.ApplicationProtocol.HTTPS,
      port: 443,
      certificates: [this.certificate],
      sslPolicy: props.sslPolicy,
      open: false,
    });
    this.httpListener = this.loadBalancer.addRedirect({
      sourceProtocol: elbv2.ApplicationProtocol.HTTP,
      sourcePort: 80,
      targetProtocol: elbv2.ApplicationProtocol.HTTPS,
      targetPort: 443,
      open: false,
    });
    if (!props.exposeMetrics) {
      // The metrics say who provisions what: not for the internet (the bridge asks for the token as well).
      this.httpsListener.addAction('NoMetrics', {
        priority: 1,
        conditions: [elbv2.ListenerCondition.pathPatterns([BRIDGE_PATHS.metrics, `${BRIDGE_PATHS.metrics}/*`])],
        action: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'Not Found' }),
      });
    }

    if (props.waf) this.webAcl = this.createWebAcl(props);

    if (props.hostedZone) {
      this.aliasRecord = new route53.ARecord(this, 'AliasRecord', {
        zone: props.hostedZone,
        recordName: props.domain,
        target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(this.loadBalancer)),
      });
      keepLogicalId(this.aliasRecord, root, ['AliasRecord', 'Resource']);
      this.dnsRecords = [];
    } else {
      this.dnsRecords = [
        {
          name: props.domain,
          type: 'CNAME',
          value: this.loadBalancer.loadBalancerDnsName,
          purpose: 'traffic (at a zone apex, an ALIAS/ANAME record to the same name, or a Route 53 alias in another account)',
        },
      ];
    }
  }

  /** Registers the tasks; the ALB's check replaces a task, so it must not depend on the database: liveness. */
  addService(service: ecs.FargateService, containerName: string): elbv2.ApplicationTargetGroup {
    const liveness = probePlan().liveness;
    this.targetGroup = this.httpsListener.addTargets('Bridge', {
      protocol: elbv2.ApplicationProtocol.HTTP,
      port: BRIDGE_PORT,
      targets: [service.loadBalancerTarget({ containerName, containerPort: BRIDGE_PORT })],
      healthCheck: {
        path: liveness.path,
        healthyHttpCodes: '200',
        interval: Duration.seconds(liveness.periodSeconds),
        timeout: Duration.seconds(liveness.timeoutSeconds),
        // The ALB wants at least 2 successes.
        healthyThresholdCount: Math.max(2, liveness.successThreshold),
        unhealthyThresholdCount: liveness.failureThreshold,
      },
      deregistrationDelay: Duration.seconds(BRIDGE_SIZING.shutdownGraceSeconds),
    });
    return this.targetGroup;
  }

  private createLogsBucket(props: BridgeFrontDoorProps): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: props.dataRemovalPolicy,
    });
    keepLogicalId(bucket, this.node.scope as Construct, ['AccessLogs', 'Resource']);
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the load balancer access logs; logging access to the log bucket itself would need yet another bucket.',
    });
    // The load balancer writes a test object as soon as logging is on: a rollback (or, unprotected, a destroy)
    // could not delete the bucket otherwise. The load balancer goes first, so nothing writes after the clean-up.
    const emptying = props.lifecycle.emptyBucketOnDelete(bucket, !props.deletionProtection);
    this.loadBalancer.node.addDependency(emptying);
    return bucket;
  }

  private createWebAcl(props: BridgeFrontDoorProps): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    const rules: wafv2.CfnWebACL.RuleProperty[] = [];
    if (props.allowedIngressCidrs.length > 0) {
      const ipSet = new wafv2.CfnIPSet(this, 'AllowedRanges', {
        scope: 'REGIONAL',
        ipAddressVersion: 'IPV4',
        addresses: [...props.allowedIngressCidrs],
        description: 'Address ranges allowed to reach the SCIM bridge, from allowedIngressCidrs',
      });
      rules.push({
        name: 'allowed-ranges-only',
        priority: 0,
        action: { block: {} },
        statement: { notStatement: { statement: { ipSetReferenceStatement: { arn: ipSet.attrArn } } } },
        visibilityConfig: visibility('scim-bridge-outside-allowed-ranges'),
      });
    }
    rules.push({
      name: 'rate-limit-per-client',
      priority: 1,
      action: { block: {} },
      // The ALB is the entry point, so the source address WAF sees is the client's.
      statement: { rateBasedStatement: { limit: props.wafRateLimit, evaluationWindowSec: 300, aggregateKeyType: 'IP' } },
      visibilityConfig: visibility('scim-bridge-rate-limited'),
    });
    const acl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'SCIM bridge: allow-list and per-client rate limit',
      rules,
      visibilityConfig: visibility('scim-bridge'),
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', { resourceArn: this.loadBalancer.loadBalancerArn, webAclArn: acl.attrArn });
    return acl;
  }
}
