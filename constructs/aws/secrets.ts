/**
 * The bridge's own secrets: the scimsession (created empty, or imported), for Google Workspace the service account
 * key, and the webhooks' signing secrets; and the one way roles get to read a secret, with `kms:Decrypt` on its customer managed key.
 */
import { type CfnResource, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { keepLogicalId } from './logical-ids';

/**
 * Lets `grantee` read `secret`, including `kms:Decrypt` on the secret's customer managed key when it has one.
 * `secret.grantRead` alone adds no KMS statement for an imported secret with an imported key (aws/aws-cdk#10160,
 * aws/aws-cdk#20087): the key grant goes to a key policy CDK cannot change, and the task fails with "Access to KMS is
 * not allowed". Secrets Manager decrypts on the caller's behalf, so `kms:ViaService` limits the grant to it
 * (docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
 */
export function grantSecretRead(secret: secretsmanager.ISecret, grantee: iam.IGrantable): void {
  secret.grantRead(grantee);
  const key = secret.encryptionKey;
  if (!key) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${secret.stack.region}.amazonaws.com` } },
    }),
  );
}

export interface BridgeSecretsProps {
  readonly domain: string;
  /** An existing scimsession secret. @default a new, empty one */
  readonly sessionSecret?: secretsmanager.ISecret;
  readonly googleCredentials?: secretsmanager.ISecret;
  /** The webhooks' signing secrets (a JSON map from endpoint name to secret). */
  readonly webhookSecrets?: secretsmanager.ISecret;
  /** What happens to a created secret when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
}

export class BridgeSecrets extends Construct {
  /** The scimsession: the bridge reads it through its ARN and follows its rotation. */
  public readonly session: secretsmanager.ISecret;
  /** True when this construct created the session secret (it then starts empty). */
  public readonly sessionCreated: boolean;
  public readonly googleCredentials?: secretsmanager.ISecret;
  public readonly webhookSecrets?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: BridgeSecretsProps) {
    super(scope, id);
    this.googleCredentials = props.googleCredentials;
    this.webhookSecrets = props.webhookSecrets;
    if (props.sessionSecret) {
      this.session = props.sessionSecret;
      this.sessionCreated = false;
      return;
    }
    const secret = new secretsmanager.Secret(this, 'Session', {
      description: `scimsession of the SCIM bridge at ${props.domain}; put one with: scim-bridge session push-aws`,
      removalPolicy: props.removalPolicy,
    });
    // No value at all in the template: neither a SecretString nor a GenerateSecretString. An edit to the template
    // can therefore never make CloudFormation write a new value over the scimsession someone pushed. CloudFormation
    // creates the secret without a version ("If you omit both ... you create an empty secret"); the bridge waits for one.
    (secret.node.defaultChild as CfnResource).addPropertyDeletionOverride('GenerateSecretString');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The scimsession is rotated by an administrator (scim-bridge session rotate + push-aws), because the new bearer token must be pasted into the identity provider; a rotation Lambda cannot do that.',
    });
    // The earlier layout's id: an upgrade keeps the secret and the scimsession in it (a new id is a new, empty secret).
    keepLogicalId(secret, this.node.scope as Construct, ['SessionSecret', 'Resource']);
    this.session = secret;
    this.sessionCreated = true;
  }
}
