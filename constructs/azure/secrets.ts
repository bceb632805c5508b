/**
 * The Key Vault (RBAC authorization) holding every secret, and who may read which.
 *
 * Destroy: azure-native creates and reads `keyvault.Secret` through Resource Manager but deletes it through the vault's
 * data plane (pulumi/pulumi-azure-native#354, #2374), which Owner or Contributor + RBAC Administrator cannot do on an
 * RBAC vault. So every secret is `deletedWith` its vault (a destroy deletes the vault alone, through Resource Manager),
 * and the deployer holds Key Vault Secrets Officer on this vault for the one delete that remains: a secret removed
 * while its vault stays (the Google key, when googleWorkspace is dropped).
 *
 * Soft delete is always on and purge protection is on: a deleted vault and its secrets stay recoverable for
 * softDeleteRetentionInDays and cannot be purged early, and a deleted secret's name stays taken until then
 * (pulumi/pulumi-azure-native#1174). Neither blocks a destroy. Names are random per stack, and an optional secret's name
 * is random per creation, so destroy-then-deploy, and remove-then-add, never meet a name held by a deleted object.
 */
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import * as authorization from '@pulumi/azure-native/authorization';
import * as keyvault from '@pulumi/azure-native/keyvault';
import { componentType, formerTypes } from '../pulumi';
import { AZURE_ROLES, type AzureContext } from './args';

export const SOFT_DELETE_RETENTION_DAYS = 90;

export type DeployerPrincipalType = 'User' | 'ServicePrincipal';

/**
 * Whether the deployer's Resource Manager token is a user's or an application's (a service principal or a managed
 * identity): Entra marks app-only tokens `idtyp: app`, and only delegated (user) tokens carry `scp`
 * (learn.microsoft.com/entra/identity-platform/access-token-claims-reference). A role assignment whose principalType does
 * not match is refused (UnmatchedPrincipalType), and azure-native sends "User" when none is given.
 */
export function principalTypeOfToken(token: string): DeployerPrincipalType {
  let claims: Record<string, unknown> = {};
  try {
    claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    // Not a JWT: fall through to the application reading, the usual case for pipelines.
  }
  if (claims.idtyp === 'user' || (claims.idtyp === undefined && typeof claims.scp === 'string')) return 'User';
  return 'ServicePrincipal';
}

export interface BridgeSecretsArgs extends AzureContext {
  /** Object id of the identity running `pulumi up` (getClientConfig). */
  readonly deployerObjectId: pulumi.Input<string>;
  /** Whether that identity is a user or a service principal (see principalTypeOfToken). */
  readonly deployerPrincipalType: pulumi.Input<DeployerPrincipalType>;
  /** Refuse deletion and replacement (deletionProtection). */
  readonly protect: boolean;
}

export class BridgeSecrets extends pulumi.ComponentResource {
  public readonly vault: keyvault.Vault;
  /** Key Vault Secrets Officer for the deployer, on this vault only. */
  public readonly deployerAccess: authorization.RoleAssignment;
  private readonly base: BridgeSecretsArgs;

  constructor(
    private readonly name: string,
    args: BridgeSecretsArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    // Named Vault until 2026-12: the alias keeps the vault and its secrets in place.
    super(componentType('azure', 'Secrets'), name, {}, formerTypes(opts, 'scim-bridge:azure:Vault'));
    this.base = args;
    this.vault = new keyvault.Vault(
      `${name}-kv`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        tags: args.tags,
        vaultName: pulumi.interpolate`scim-kv-${args.suffix}`,
        properties: {
          tenantId: args.tenantId,
          sku: { family: 'A', name: 'standard' },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: SOFT_DELETE_RETENTION_DAYS,
          // Irreversible, and it never blocks a destroy; it only keeps a deleted vault recoverable.
          enablePurgeProtection: true,
        },
      },
      { parent: this, protect: args.protect },
    );
    this.deployerAccess = this.grant(
      'deployer-secrets-officer',
      this.vault.id,
      args.deployerObjectId,
      AZURE_ROLES.keyVaultSecretsOfficer,
      'Deletes a secret removed from the stack',
      args.deployerPrincipalType,
    );
    this.registerOutputs({ vaultName: this.vault.name });
  }

  /** A secret in this vault, deleted with the vault; `unique` gives it a fresh name each time it is created. */
  secret(id: string, secretName: string, value: pulumi.Input<string>, contentType: string, unique = false): keyvault.Secret {
    const name = unique
      ? pulumi.interpolate`${secretName}-${new random.RandomString(`${this.name}-${id}-name`, { length: 6, special: false, upper: false }, { parent: this }).result}`
      : secretName;
    return new keyvault.Secret(
      `${this.name}-${id}`,
      {
        resourceGroupName: this.base.resourceGroupName,
        vaultName: this.vault.name,
        secretName: name,
        properties: { value: pulumi.secret(value), contentType },
        tags: this.base.tags,
      },
      // Deleted after the deployer's data-plane role is gone would fail; deleted with the vault needs no data plane at all.
      { parent: this, deletedWith: this.vault, dependsOn: [this.deployerAccess] },
    );
  }

  /** Key Vault Secrets User on one secret (not the vault), so an identity reads only what it is given. */
  allowRead(id: string, secret: keyvault.Secret, principalId: pulumi.Input<string>, description: string): authorization.RoleAssignment {
    // Set for a brand-new identity so Resource Manager does not look it up before Entra ID has replicated it.
    return this.grant(id, secret.id, principalId, AZURE_ROLES.keyVaultSecretsUser, description, 'ServicePrincipal');
  }

  private grant(
    id: string,
    scope: pulumi.Input<string>,
    principalId: pulumi.Input<string>,
    role: string,
    description: string,
    principalType: pulumi.Input<DeployerPrincipalType>,
  ): authorization.RoleAssignment {
    return new authorization.RoleAssignment(
      `${this.name}-${id}`,
      {
        scope,
        roleDefinitionId: pulumi.interpolate`/subscriptions/${this.base.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
        principalId,
        principalType,
        description,
      },
      { parent: this },
    );
  }
}
