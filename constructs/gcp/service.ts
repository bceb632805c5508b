/**
 * The Cloud Run (v2) service: its own service account that reads its own secrets and nothing else, the scimsession
 * mounted as a file that follows the latest version (a rotated session arrives without a restart), the database
 * password and the Google Workspace key as secret environment values pinned to the version Pulumi wrote (a change
 * rolls a new revision), Direct VPC egress into the bridge's subnet for the database, probes from the shared plan.
 *
 * `invokerIamDisabled`: the bridge checks its own bearer token, so Cloud Run's invoker check is switched off instead of
 * granting `roles/run.invoker` to `allUsers`, which organisations with Domain Restricted Sharing refuse
 * (cloud.google.com/run/docs/securing/managing-access#invoker_check). Ingress still admits only the chosen front door.
 */
import * as pulumi from '@pulumi/pulumi';
import * as cloudrunv2 from '@pulumi/gcp/cloudrunv2';
import type * as gcpInputs from '@pulumi/gcp/types/input';
import * as serviceaccount from '@pulumi/gcp/serviceaccount';
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PORT } from '../../contract';
import { type Probe, probePlan } from '../common';
import { CLOUD_RUN } from './platform';
import type { BridgeDatabase } from './database';
import type { BridgeNetwork } from './network';
import { childOptions } from '../pulumi';
import type { GcpScope } from './args';
import { BridgeSecret, grantSecretAccess } from './secrets';

export interface BridgeServiceArgs extends GcpScope {
  readonly accountId: pulumi.Input<string>;
  readonly image: pulumi.Input<string>;
  readonly ingress: string;
  /** The bridge's plain environment (bridgeEnvironment). */
  readonly environment: Record<string, string>;
  readonly scimSession?: pulumi.Input<string>;
  readonly scimSessionSecretId?: string;
  readonly googleCredentials?: pulumi.Input<string>;
  /** The change feed's signing secrets (JSON), kept in Secret Manager. */
  readonly webhookSecrets?: pulumi.Input<string>;
  readonly database: BridgeDatabase;
  readonly network: BridgeNetwork;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly concurrency: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  /** What must exist before the first revision (the bootstrap job, the APIs). */
  readonly dependsOn: pulumi.Resource[];
}

/** Cloud Run's probe shape from the shared plan. */
function runProbe(probe: Probe) {
  return {
    httpGet: { path: probe.path, port: probe.port },
    periodSeconds: probe.periodSeconds,
    timeoutSeconds: probe.timeoutSeconds,
    failureThreshold: probe.failureThreshold,
  };
}

export class BridgeService extends pulumi.ComponentResource {
  public readonly serviceAccount: serviceaccount.Account;
  public readonly service: cloudrunv2.Service;
  /** The secret the bridge reads the scimsession from (created here, or the given one). */
  public readonly sessionSecretId: pulumi.Output<string>;
  public readonly sessionSecret?: BridgeSecret;
  public readonly googleCredentialsSecret?: BridgeSecret;
  public readonly webhookSecretsSecret?: BridgeSecret;

  constructor(name: string, args: BridgeServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:gcp:Service', name, {}, opts);
    const { project, database: db } = args;
    const child = childOptions(this, opts);
    this.serviceAccount = new serviceaccount.Account(
      name,
      { project, accountId: args.accountId, displayName: 'SCIM bridge (Cloud Run)', description: 'Runs the SCIM bridge: reads its own secrets, nothing else.' },
      child,
    );
    const member = this.serviceAccount.member;

    if (args.scimSession !== undefined) {
      this.sessionSecret = new BridgeSecret(
        `${name}-scimsession`,
        { project, secretId: pulumi.interpolate`${args.resourceName}-scimsession`, data: args.scimSession, labels: args.labels },
        child,
      );
      this.sessionSecretId = this.sessionSecret.secretId;
    } else {
      this.sessionSecretId = pulumi.output(args.scimSessionSecretId!);
    }
    const ready: pulumi.Resource[] = [
      grantSecretAccess(`${name}-scimsession`, project, this.sessionSecretId, member, child),
      grantSecretAccess(`${name}-db-password`, project, db.appPassword.secretId, member, child),
      db.appPassword.version,
      ...(this.sessionSecret ? [this.sessionSecret.version] : []),
    ];
    const secretEnv = (envName: string, secret: BridgeSecret): gcpInputs.cloudrunv2.ServiceTemplateContainerEnv => ({
      name: envName,
      valueSource: { secretKeyRef: { secret: secret.secretId, version: secret.version.version } },
    });
    const envs: gcpInputs.cloudrunv2.ServiceTemplateContainerEnv[] = [
      // PORT is set by Cloud Run from the container port (a reserved name).
      ...Object.entries(args.environment).map(([envName, value]) => ({ name: envName, value })),
      { name: BRIDGE_ENV.sessionFile, value: `${BRIDGE_IMAGE.sessionMountDir}/${BRIDGE_IMAGE.sessionFileName}` },
      { name: BRIDGE_ENV.databaseUrl, value: db.appUrl },
      secretEnv(BRIDGE_ENV.pgPassword, db.appPassword),
      { name: BRIDGE_ENV.databaseCaCert, value: db.caBundle },
    ];
    if (args.googleCredentials !== undefined) {
      this.googleCredentialsSecret = new BridgeSecret(
        `${name}-google-credentials`,
        { project, secretId: pulumi.interpolate`${args.resourceName}-google-credentials`, data: args.googleCredentials, labels: args.labels },
        child,
      );
      ready.push(
        grantSecretAccess(`${name}-google-credentials`, project, this.googleCredentialsSecret.secretId, member, child),
        this.googleCredentialsSecret.version,
      );
      envs.push(secretEnv(BRIDGE_ENV.googleCredentials, this.googleCredentialsSecret));
    }

    // Direct VPC egress may take a minute or more to connect at instance start (see CLOUD_RUN.startupGraceSeconds).
    if (args.webhookSecrets !== undefined) {
      // Like the scimsession: in Secret Manager, read by this service's account only, never a plain value.
      this.webhookSecretsSecret = new BridgeSecret(
        `${name}-webhook-secrets`,
        { project, secretId: pulumi.interpolate`${args.resourceName}-webhook-secrets`, data: args.webhookSecrets, labels: args.labels },
        child,
      );
      ready.push(grantSecretAccess(`${name}-webhook-secrets`, project, this.webhookSecretsSecret.secretId, member, child), this.webhookSecretsSecret.version);
      envs.push(secretEnv(BRIDGE_ENV.webhookSecrets, this.webhookSecretsSecret));
    }

    const probes = probePlan({ startupPeriodSeconds: 10, startupGraceSeconds: CLOUD_RUN.startupGraceSeconds });
    const sessionVolume = 'scimsession';
    this.service = new cloudrunv2.Service(
      name,
      {
        project,
        location: args.region,
        name: args.resourceName,
        description: 'SCIM 2.0 bridge',
        ingress: args.ingress,
        invokerIamDisabled: true,
        // It holds no state (the database does): a destroy removes it (the provider's default, true, blocks every destroy).
        deletionProtection: false,
        labels: args.labels,
        template: {
          serviceAccount: this.serviceAccount.email,
          maxInstanceRequestConcurrency: args.concurrency,
          scaling: { minInstanceCount: args.minReplicas, maxInstanceCount: args.maxReplicas },
          executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
          labels: args.labels,
          vpcAccess: { networkInterfaces: [{ network: args.network.network.id, subnetwork: args.network.subnetwork.id }], egress: 'PRIVATE_RANGES_ONLY' },
          containers: [
            {
              name: 'bridge',
              image: args.image,
              ports: { containerPort: BRIDGE_PORT },
              resources: { limits: { cpu: String(args.cpu), memory: `${args.memoryMiB}Mi` }, cpuIdle: true, startupCpuBoost: true },
              envs,
              volumeMounts: [{ name: sessionVolume, mountPath: BRIDGE_IMAGE.sessionMountDir }],
              startupProbe: runProbe(probes.startup),
              // Shallow: a database outage must not turn into instance churn.
              livenessProbe: runProbe(probes.liveness),
            },
          ],
          volumes: [
            // 'latest': every read fetches the newest version, so a rotated session arrives without a restart.
            { name: sessionVolume, secret: { secret: this.sessionSecretId, items: [{ path: BRIDGE_IMAGE.sessionFileName, version: 'latest' }] } },
          ],
        },
      },
      // The first revision checks that its account can read every secret it names, and the role must exist.
      childOptions(this, opts, ...ready, ...args.dependsOn),
    );
    this.registerOutputs({ uri: this.service.uri, serviceAccount: this.serviceAccount.email });
  }
}
