/**
 * A Secret Manager secret holding one value the component made or was given, and the grant that lets one service
 * account read one secret (never a project-wide grant). Cloud Run checks at revision creation that its service account
 * can read every secret it references, so whatever runs with a secret waits for both the version and the grant.
 */
import * as pulumi from '@pulumi/pulumi';
import * as secretmanager from '@pulumi/gcp/secretmanager';
import { childOptions } from '../pulumi';

export const SECRET_ACCESSOR = 'roles/secretmanager.secretAccessor';

export interface BridgeSecretArgs {
  readonly project: string;
  readonly secretId: pulumi.Input<string>;
  /** The value: stored as a Pulumi secret in state; Secret Manager encrypts it at rest. */
  readonly data: pulumi.Input<string>;
  readonly labels: Record<string, string>;
}

export class BridgeSecret extends pulumi.ComponentResource {
  public readonly secret: secretmanager.Secret;
  public readonly version: secretmanager.SecretVersion;
  /** The secret's short id, for `secretKeyRef.secret` and grants. */
  public readonly secretId: pulumi.Output<string>;

  constructor(name: string, args: BridgeSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:gcp:Secret', name, {}, opts);
    const child = childOptions(this, opts);
    this.secret = new secretmanager.Secret(name, { project: args.project, secretId: args.secretId, replication: { auto: {} }, labels: args.labels }, child);
    this.version = new secretmanager.SecretVersion(name, { secret: this.secret.id, secretData: pulumi.secret(args.data) }, child);
    this.secretId = this.secret.secretId;
    this.registerOutputs({ secretId: this.secretId });
  }
}

/** Lets `member` read the secret's versions, on that secret only. */
export function grantSecretAccess(
  name: string,
  project: string,
  secretId: pulumi.Input<string>,
  member: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): secretmanager.SecretIamMember {
  return new secretmanager.SecretIamMember(name, { project, secretId, role: SECRET_ACCESSOR, member }, opts);
}
