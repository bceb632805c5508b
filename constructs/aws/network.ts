/** The network: a VPC across two zones (public, private with egress, isolated) with flow logs, or the given VPC. */
import { type CfnResource, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { keepLogicalId, keepLogicalIds } from './logical-ids';

export interface BridgeNetworkProps {
  readonly vpc?: ec2.IVpc;
  readonly natGateways: number;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

export class BridgeNetwork extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Where the database goes: isolated subnets when the VPC has them. */
  public readonly databaseSubnets: ec2.SubnetSelection;

  constructor(scope: Construct, id: string, props: BridgeNetworkProps) {
    super(scope, id);
    if (props.vpc) {
      this.vpc = props.vpc;
    } else {
      const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.logRetention, removalPolicy: props.logRemovalPolicy });
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        // One NAT gateway per zone by default: with one, a zone outage stops every new task from pulling its image
        // and reading its secrets.
        natGateways: props.natGateways,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
          { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        ],
      });
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      ownDefaultSecurityGroupProvider(vpc, props.logRetention);
      // The earlier layout's ids (constructs/aws/logical-ids.ts): an upgrade keeps the network, its NAT addresses
      // (what allow-lists of egress addresses hold) and the flow logs.
      const root = this.node.scope as Construct;
      keepLogicalId(flowLogs, root, ['FlowLogs', 'Resource']);
      keepLogicalIds(vpc, root, ['Vpc']);
      this.vpc = vpc;
    }
    this.databaseSubnets = {
      subnetType: this.vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
    };
  }
}

/** CDK's provider that empties the VPC's default security group (restrictDefaultSecurityGroup): one per stack. */
const PROVIDER_ID = 'Custom::VpcRestrictDefaultSGCustomResourceProvider';
/** Its Lambda's own limit (CDK's provider: 15 minutes); CloudFormation waits a minute beyond it, not an hour. */
const PROVIDER_SERVICE_TIMEOUT = Duration.minutes(16);

/**
 * The provider's Lambda writes to `/aws/lambda/<function>`, a log group Lambda creates itself: no retention, and left
 * behind by a destroy. A log group of that name in the stack, created before the first call and deleted with the
 * stack, owns it instead. The provider's custom resource also gets a ServiceTimeout (the default is an hour).
 */
function ownDefaultSecurityGroupProvider(vpc: ec2.Vpc, retention: logs.RetentionDays): void {
  const stack = Stack.of(vpc);
  const handler = stack.node.tryFindChild(PROVIDER_ID)?.node.tryFindChild('Handler') as CfnResource | undefined;
  const restrict = vpc.node.tryFindChild('RestrictDefaultSecurityGroupCustomResource')?.node.defaultChild as CfnResource | undefined;
  if (!handler || !restrict) return;
  restrict.addPropertyOverride('ServiceTimeout', String(PROVIDER_SERVICE_TIMEOUT.toSeconds()));
  const id = 'ScimBridgeDefaultSecurityGroupProviderLogs';
  const existing = stack.node.tryFindChild(id) as logs.LogGroup | undefined;
  const logGroup =
    existing ??
    new logs.LogGroup(stack, id, {
      logGroupName: Fn.join('', ['/aws/lambda/', handler.ref]),
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  restrict.node.addDependency(logGroup);
}
