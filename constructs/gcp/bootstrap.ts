/**
 * The one-off step before the service starts: a Cloud Run job that runs `scim-bridge db bootstrap` with the
 * administrator's URL and the app's URL and password, and makes (or updates) the app's least-privilege role.
 *
 * Why a job and not Cloud SQL IAM database authentication: users made through the Cloud SQL API are members of
 * `cloudsqlsuperuser`, so the bridge must not sign in as one; an IAM database user gets nothing until someone with an
 * administrator's connection grants it rights, so the bootstrap step is needed either way, and IAM sign-in over a
 * direct private connection needs a fresh OAuth token as the password every hour, which the bridge does not do. So
 * one mechanism on every cloud: the bootstrap makes the role from SQL (not a `cloudsqlsuperuser` member), with the
 * password Pulumi generated.
 *
 * The administrator's URL stays with the job: its own service account is the only reader of that secret, and the
 * service never sees it. `runExecutionToken` starts an execution on create and whenever the image or the app password
 * changes, and the provider waits for it to succeed, so the service (which depends on the job) rolls out only onto a
 * database whose role is ready.
 */
import * as pulumi from '@pulumi/pulumi';
import * as cloudrunv2 from '@pulumi/gcp/cloudrunv2';
import type * as compute from '@pulumi/gcp/compute';
import * as serviceaccount from '@pulumi/gcp/serviceaccount';
import { BRIDGE_ENV } from '../../contract';
import { BOOTSTRAP_COMMAND, BOOTSTRAP_ENV } from '../common';
import type { BridgeDatabase } from './database';
import { executionToken } from './platform';
import { childOptions } from '../pulumi';
import type { GcpScope } from './args';
import { grantSecretAccess } from './secrets';

export interface BridgeBootstrapArgs extends GcpScope {
  /** Service account id (6 to 30 characters). */
  readonly accountId: pulumi.Input<string>;
  readonly image: pulumi.Input<string>;
  readonly database: BridgeDatabase;
  readonly network: compute.Network;
  readonly subnetwork: compute.Subnetwork;
  readonly logLevel: string;
}

export class BridgeBootstrap extends pulumi.ComponentResource {
  public readonly serviceAccount: serviceaccount.Account;
  public readonly job: cloudrunv2.Job;

  constructor(name: string, args: BridgeBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:gcp:Bootstrap', name, {}, opts);
    const { project, database: db } = args;
    const child = childOptions(this, opts);
    this.serviceAccount = new serviceaccount.Account(
      name,
      {
        project,
        accountId: args.accountId,
        displayName: 'SCIM bridge database bootstrap',
        description: 'Runs scim-bridge db bootstrap: reads the database administrator URL and the app password, nothing else.',
      },
      child,
    );
    const member = this.serviceAccount.member;
    const grants = [
      grantSecretAccess(`${name}-admin-url`, project, db.adminUrl.secretId, member, child),
      grantSecretAccess(`${name}-app-password`, project, db.appPassword.secretId, member, child),
    ];
    const token = pulumi.all([args.image, db.appPassword.version.name]).apply(([image, password]) => executionToken(image, password));

    this.job = new cloudrunv2.Job(
      name,
      {
        project,
        location: args.region,
        name: pulumi.interpolate`${args.resourceName}-bootstrap`,
        // It holds no state: a destroy removes it (the provider's default, true, would block every destroy).
        deletionProtection: false,
        labels: args.labels,
        runExecutionToken: token,
        template: {
          taskCount: 1,
          template: {
            serviceAccount: this.serviceAccount.email,
            maxRetries: 2,
            timeout: '300s',
            vpcAccess: { networkInterfaces: [{ network: args.network.id, subnetwork: args.subnetwork.id }], egress: 'PRIVATE_RANGES_ONLY' },
            containers: [
              {
                name: 'bootstrap',
                image: args.image,
                args: [...BOOTSTRAP_COMMAND],
                envs: [
                  { name: BOOTSTRAP_ENV.adminUrl, valueSource: { secretKeyRef: { secret: db.adminUrl.secretId, version: db.adminUrl.version.version } } },
                  { name: BOOTSTRAP_ENV.appUrl, value: db.appUrl },
                  { name: BRIDGE_ENV.pgPassword, valueSource: { secretKeyRef: { secret: db.appPassword.secretId, version: db.appPassword.version.version } } },
                  { name: BRIDGE_ENV.databaseCaCert, value: db.caBundle },
                  { name: BRIDGE_ENV.logLevel, value: args.logLevel },
                ],
                resources: { limits: { cpu: '1', memory: '512Mi' } },
              },
            ],
          },
        },
      },
      // Cloud Run checks that the job's account can read its secrets; the name must resolve before it runs.
      childOptions(this, opts, ...grants, db.adminUrl.version, db.appPassword.version, db.database, db.adminUser, db.dnsRecord, db.endpoint),
    );
    this.registerOutputs({ job: this.job.name });
  }
}
