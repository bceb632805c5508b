/**
 * AWS: the `ScimBridge` CDK construct (ECS Fargate behind an HTTPS ALB, scimsession in Secrets Manager, RDS
 * PostgreSQL as the app's own role, DNS in Route 53 or elsewhere, alarms), one concern a file: props, network,
 * secrets, database, service, front door, alarms, lifecycle; and the cdk-nag wiring the app and tests share.
 */
export * from './alarms';
export * from './database';
export * from './front-door';
export * from './instance-classes';
export * from './lifecycle';
export * from './logical-ids';
export * from './nag';
export * from './network';
export * from './props';
export * from './scim-bridge';
export * from './secrets';
export * from './service';
