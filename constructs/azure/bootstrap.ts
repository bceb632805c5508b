/**
 * `scim-bridge db bootstrap` as a Container Apps job, run to completion by `pulumi up` before the app's revision.
 *
 * The job alone holds the administrator's URL: it has its own identity, which may read only the admin-URL and
 * app-password secrets, and the app's identity cannot read the admin secret at all (an init container would share the
 * app's identity, and every container of an app can use it). The job connects as the server administrator (a member
 * of azure_pg_admin) and creates or updates the app's role `scim_bridge` with the app's password.
 */
import * as pulumi from '@pulumi/pulumi';
import * as app from '@pulumi/azure-native/app';
import type * as keyvault from '@pulumi/azure-native/keyvault';
import { BRIDGE_ENV } from '../../contract';
import { BOOTSTRAP_COMMAND, BOOTSTRAP_ENV } from '../common';
import { JobRun } from './actions';
import type { AzureContext, ContainerPlacement } from './args';
import { runsOn } from './environment';

export const BOOTSTRAP_CONTAINER = 'bootstrap';
const SECRETS = { adminUrl: 'admin-url', appPassword: 'app-password' } as const;

export interface BridgeBootstrapArgs extends AzureContext, ContainerPlacement {
  readonly jobName: string;
  readonly adminUrl: keyvault.Secret;
  readonly appPassword: keyvault.Secret;
  /** The app's URL without its password (PGPASSWORD carries it). */
  readonly appUrl: pulumi.Input<string>;
  /** What must exist first: the database, its TLS setting, and the pause after the role assignments. */
  readonly after: pulumi.Resource[];
  readonly armEndpoint: pulumi.Input<string>;
  readonly token: pulumi.Input<string>;
}

export class BridgeBootstrap extends pulumi.ComponentResource {
  public readonly job: app.Job;
  /** The finished execution; the app waits for it. */
  public readonly run: JobRun;

  constructor(name: string, args: BridgeBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:azure:Bootstrap', name, {}, opts);
    const identity = args.identity.id;
    const { placement, registries } = runsOn(args);
    // Versioned references: a new password reaches the job (and the run) in the same `pulumi up`, not up to 30 minutes later.
    const ref = (name: string, secret: keyvault.Secret) => ({ name, keyVaultUrl: secret.properties.secretUriWithVersion, identity });
    this.job = new app.Job(
      `${name}-job`,
      {
        ...placement,
        jobName: args.jobName,
        configuration: {
          triggerType: 'Manual',
          manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 },
          replicaTimeout: 600,
          replicaRetryLimit: 1,
          registries,
          secrets: [ref(SECRETS.adminUrl, args.adminUrl), ref(SECRETS.appPassword, args.appPassword)],
        },
        template: {
          containers: [
            {
              name: BOOTSTRAP_CONTAINER,
              image: args.imageRef,
              args: [...BOOTSTRAP_COMMAND],
              resources: { cpu: 0.25, memory: '0.5Gi' },
              env: [
                { name: BOOTSTRAP_ENV.adminUrl, secretRef: SECRETS.adminUrl },
                { name: BOOTSTRAP_ENV.appUrl, value: args.appUrl },
                { name: BRIDGE_ENV.pgPassword, secretRef: SECRETS.appPassword },
              ],
            },
          ],
        },
      },
      { parent: this, dependsOn: args.after },
    );
    this.run = new JobRun(
      `${name}-run`,
      {
        armEndpoint: args.armEndpoint,
        jobId: this.job.id,
        token: args.token,
        // A new job, a new image (new grants) or a new password runs the bootstrap again.
        triggers: [this.job.id, pulumi.output(args.imageRef), args.adminUrl.properties.secretUriWithVersion, args.appPassword.properties.secretUriWithVersion],
      },
      { parent: this },
    );
    this.registerOutputs({ jobName: this.job.name });
  }
}
