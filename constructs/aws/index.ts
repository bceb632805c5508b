/**
 * AWS: the `ScimBridge` CDK construct (ECS Fargate behind an HTTPS ALB, Route 53 alias, scimsession in
 * Secrets Manager, encrypted RDS PostgreSQL, autoscaling) and the cdk-nag wiring the app and tests share.
 */
export * from './scim-bridge';
export * from './nag';
