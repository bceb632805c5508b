/**
 * Lifecycle steps around CloudFormation's own (see lifecycle-handler/index.js): a failed first deploy rolls back
 * without leaving the stack termination-protected or a database deletion-protected, the access-log bucket is emptied
 * when it must go (and stays empty), the database's deletion protection is switched on only once the service is stable,
 * and what RDS cannot do in place (a major version down, less storage) is refused before RDS is asked.
 */
import * as path from 'node:path';
import { ArnFormat, Aws, type CfnResource, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IDependable } from 'constructs';

export const LIFECYCLE_RESOURCE_TYPE = 'Custom::ScimBridgeLifecycle';

/** The handler's own limit: its longest wait (10 minutes) and 20 seconds to answer fit in it. */
export const LIFECYCLE_FUNCTION_TIMEOUT = Duration.minutes(14);
/**
 * How long CloudFormation waits for an answer. Without it, a handler that crashed before answering holds the stack
 * for the default of one hour, and again on the rollback (AWS::CloudFormation::CustomResource ServiceTimeout, 1 to
 * 3600 seconds): a minute beyond the function's own limit.
 */
export const LIFECYCLE_SERVICE_TIMEOUT = LIFECYCLE_FUNCTION_TIMEOUT.plus(Duration.minutes(1));

export interface BridgeLifecycleProps {
  readonly logRetention: logs.RetentionDays;
}

export class BridgeLifecycle extends Construct {
  public readonly function: lambda.Function;
  /** Everything else in the bridge depends on it: created first, deleted last (see the handler). */
  public readonly terminationGuard: CustomResource;
  private readonly role: iam.Role;
  private databasePolicy?: iam.Policy;

  constructor(scope: Construct, id: string, props: BridgeLifecycleProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'SCIM bridge lifecycle steps: termination protection on a failed create, bucket clean-up, database deletion protection',
      inlinePolicies: {
        base: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
            // Only this stack: read its status (is this a creation rollback?) and lift its termination protection.
            new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks', 'cloudformation:UpdateTerminationProtection'], resources: [Aws.STACK_ID] }),
          ],
        }),
      },
    });
    this.function = new lambda.Function(this, 'Function', {
      description: 'SCIM bridge lifecycle steps (Custom::ScimBridgeLifecycle)',
      // The newest Node.js runtime: its AWS SDK v3 is all the handler needs.
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, 'lifecycle-handler')),
      timeout: LIFECYCLE_FUNCTION_TIMEOUT,
      memorySize: 256,
      role: this.role,
      logGroup,
    });
    this.terminationGuard = this.step('TerminationGuard', { Action: 'TerminationGuard' });
  }

  /** Empties `bucket` when it is deleted by a creation rollback, or on any delete when `always`. */
  emptyBucketOnDelete(bucket: s3.IBucket, always: boolean): CustomResource {
    const policy = new iam.Policy(this, 'BucketPolicy', {
      statements: [
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
        new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [bucket.arnForObjects('*')] }),
      ],
      roles: [this.role],
    });
    const bucketId = Stack.of(this).resolve((bucket.node.defaultChild as CfnResource).logicalId);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason: "Emptying the access-log bucket deletes objects whose keys the load balancer chose; the resource is that one bucket's objects.",
    });
    const step = this.step('EmptyBucket', { Action: 'EmptyBucket', Bucket: bucket.bucketName, OnDelete: always ? 'always' : 'rollback' });
    step.node.addDependency(policy);
    return step;
  }

  /**
   * Sets the instance's deletion protection once everything in `after` exists (the service is stable), and lifts it
   * when a creation rollback deletes this step.
   */
  protectDatabase(instanceIdentifier: string, protect: boolean, after: IDependable[]): CustomResource {
    const step = this.step('DatabaseProtection', { Action: 'DatabaseProtection', DBInstanceIdentifier: instanceIdentifier, Protect: String(protect) });
    step.node.addDependency(this.policyForDatabase(instanceIdentifier), ...after);
    return step;
  }

  /**
   * Refuses, before the instance is changed (`instance` depends on this step), what RDS cannot do in place: a PostgreSQL
   * major version below the running one (RDS upgrades majors, never downgrades) and less storage than the instance has.
   */
  checkDatabaseChange(instanceIdentifier: string, change: { version: string; storageGiB: number }, instance: IDependable & Construct): CustomResource {
    const step = this.step('DatabaseChange', {
      Action: 'DatabaseChange',
      DBInstanceIdentifier: instanceIdentifier,
      Version: change.version,
      StorageGiB: String(change.storageGiB),
    });
    step.node.addDependency(this.policyForDatabase(instanceIdentifier));
    instance.node.addDependency(step);
    return step;
  }

  private policyForDatabase(instanceIdentifier: string): iam.Policy {
    if (this.databasePolicy) return this.databasePolicy;
    const stack = Stack.of(this);
    this.databasePolicy = new iam.Policy(this, 'DatabasePolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['rds:ModifyDBInstance', 'rds:DescribeDBInstances'],
          resources: [stack.formatArn({ service: 'rds', resource: 'db', resourceName: instanceIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        }),
      ],
      roles: [this.role],
    });
    return this.databasePolicy;
  }

  private step(id: string, properties: Record<string, string>): CustomResource {
    const step = new CustomResource(this, id, {
      serviceToken: this.function.functionArn,
      resourceType: LIFECYCLE_RESOURCE_TYPE,
      properties,
      removalPolicy: RemovalPolicy.DESTROY,
      serviceTimeout: LIFECYCLE_SERVICE_TIMEOUT,
    });
    return step;
  }
}
