/**
 * Alarms on what stops provisioning: 5xx answers, unhealthy or missing tasks, the service's and the database's CPU,
 * database storage and connections; and on what waits for an operator: a deprovisioning hold. They notify one SNS
 * topic (given, or created, with an optional e-mail).
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { RDS_RESERVED_CONNECTIONS } from './instance-classes';

/**
 * The bridge's log line when the deprovisioning guard starts a hold (its `msg`; JSON lines on stdout, in the service's
 * log group). The guard's own gauge, `scim_bridge_feed_holds_active`, is a Prometheus metric: nothing carries
 * /metrics into CloudWatch, so the alarm counts this line instead.
 */
export const HOLD_STARTED_MESSAGE = 'deprovisioning hold started';
/** The CloudWatch metric the log line becomes: holds started per minute. */
export const HOLDS_STARTED_METRIC = 'scim_bridge_feed_holds_started';

export interface BridgeAlarmsProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.FargateService;
  readonly database: rds.DatabaseInstance;
  readonly databaseStorageGiB: number;
  /** The instance's estimated max_connections, when known. */
  readonly databaseMaxConnections?: number;
  readonly topic?: sns.ITopic;
  readonly email?: string;
  /** The bridge's log group (JSON lines): the deprovisioning guard's hold is read from it. */
  readonly logGroup?: logs.ILogGroup;
}

export class BridgeAlarms extends Construct {
  public readonly topic: sns.ITopic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: BridgeAlarmsProps) {
    super(scope, id);
    if (props.topic) {
      this.topic = props.topic;
    } else {
      const topic = new sns.Topic(this, 'Topic', { displayName: 'SCIM bridge alarms', enforceSSL: true });
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key (aws/sns), and the notifications carry only alarm names, metrics and states; a customer managed key would add cost without protecting a secret.',
      });
      this.topic = topic;
    }
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    const lb = props.loadBalancer.metrics;
    const tg = props.targetGroup.metrics;
    const fiveMinutes = Duration.minutes(5);
    const minute = Duration.minutes(1);
    this.add(
      'Target5xx',
      'The bridge answered with 5xx (store unavailable, a bug): look at its log group.',
      tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: fiveMinutes, statistic: 'Sum' }),
      10,
      1,
    );
    this.add(
      'LoadBalancer5xx',
      'The load balancer answered 5xx itself (no healthy task, timeouts).',
      lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: fiveMinutes, statistic: 'Sum' }),
      10,
      1,
    );
    this.add('UnhealthyTasks', 'A task fails its /ping health check.', tg.unhealthyHostCount({ period: minute, statistic: 'Maximum' }), 1, 3);
    this.add(
      'NoHealthyTask',
      'No task is healthy: identity providers get 503.',
      tg.healthyHostCount({ period: minute, statistic: 'Minimum' }),
      1,
      2,
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    );
    this.add('ServiceCpu', 'The tasks run hot; autoscaling may be at maxReplicas.', props.service.metricCpuUtilization({ period: fiveMinutes }), 85, 3);
    this.add(
      'DatabaseCpu',
      'The database CPU is high (a larger database.size may be needed).',
      props.database.metricCPUUtilization({ period: fiveMinutes }),
      80,
      3,
    );
    // Storage grows by itself up to 5× the initial size; alarm before the growth runs out or cannot keep up.
    const freeBytes = Math.max(1, props.databaseStorageGiB * 0.05) * 1024 ** 3;
    this.add(
      'DatabaseStorage',
      'The database is running out of storage.',
      props.database.metricFreeStorageSpace({ period: fiveMinutes, statistic: 'Minimum' }),
      freeBytes,
      3,
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    );
    if (props.logGroup) {
      // A metric filter turns each "hold started" line into 1; the alarm fires the minute a hold starts and returns to OK
      // when no hold started for a minute, not when the hold is released (that needs an operator: /api/holds).
      const filter = props.logGroup.addMetricFilter('FeedHoldStarted', {
        filterPattern: logs.FilterPattern.stringValue('$.msg', '=', HOLD_STARTED_MESSAGE),
        // One namespace per stack, so two bridges in one account do not share the count.
        metricNamespace: `ScimBridge/${Stack.of(this).stackName}`,
        metricName: HOLDS_STARTED_METRIC,
        metricValue: '1',
      });
      this.add(
        'FeedHoldStarted',
        'The deprovisioning guard started a hold (its scim_bridge_feed_holds_active gauge rose above 0): ' +
          'deliveries of deprovisioning changes wait for an operator (GET /api/holds, then release or discard).',
        filter.metric({ period: minute, statistic: 'Sum' }),
        1,
        1,
      );
    }
    if (props.databaseMaxConnections !== undefined) {
      const usable = props.databaseMaxConnections - RDS_RESERVED_CONNECTIONS;
      this.add(
        'DatabaseConnections',
        `Database connections above 80 % of the ~${usable} the app may open.`,
        props.database.metricDatabaseConnections({ period: minute, statistic: 'Maximum' }),
        Math.floor(usable * 0.8),
        5,
      );
    }
  }

  private add(
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    evaluationPeriods: number,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: `SCIM bridge: ${description}`,
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator,
      treatMissingData,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
