/**
 * The app's two components: the bridge service, and the PRE_DEPLOY job that runs `scim-bridge db bootstrap` before
 * every deployment (App Platform fails the deployment, and keeps the running one, when the job fails). Only the job
 * holds the administrator's URL; the service connects as the bridge's own role.
 */
import type * as digitalocean from '@pulumi/digitalocean';
import type * as pulumi from '@pulumi/pulumi';
import { BRIDGE_ENV, BRIDGE_IMAGE, BRIDGE_PORT, BRIDGE_PROBES, BRIDGE_SIZING } from '../../contract';
import { BOOTSTRAP_COMMAND, BOOTSTRAP_ENV, bridgeEnvironment, probePlan } from '../common';
import type { ResolvedDigitalOceanArgs } from './args';
import { bindVariable } from './database';
import type { AppImageSource } from './image-reference';
import { JOB_INSTANCE_SIZE } from './platform';
import { type PlacedSecret, type SealedSecrets, envSecret, imageCredentialsSecret, secretValue } from './secrets';

export const SERVICE_NAME = 'bridge';
export const BOOTSTRAP_JOB_NAME = 'db-bootstrap';

/** The bootstrap as App Platform's run command: the image's entry point with the bootstrap arguments. */
export const BOOTSTRAP_RUN_COMMAND = [...BRIDGE_IMAGE.entrypoint, ...BOOTSTRAP_COMMAND].join(' ');

type Env = digitalocean.types.input.AppSpecServiceEnv;

export interface ComponentInputs {
  readonly args: ResolvedDigitalOceanArgs;
  readonly image: pulumi.Output<AppImageSource>;
  readonly imageCredentials?: pulumi.Input<string>;
  readonly scimSession: pulumi.Input<string>;
  readonly googleCredentials?: pulumi.Input<string>;
  /** The change feed's signing secrets (JSON): an encrypted app secret, like the scimsession. */
  readonly webhookSecrets?: pulumi.Input<string>;
  readonly appUrl: pulumi.Input<string>;
  readonly adminUrl: pulumi.Input<string>;
  readonly previousSecrets?: pulumi.Input<SealedSecrets | undefined>;
  /** The app the secrets are sealed for (encrypted forms are not reused for another one). */
  readonly sealScope: string;
}

const general = (key: string, value: pulumi.Input<string>): Env => ({ key, value, scope: 'RUN_TIME', type: 'GENERAL' });

/**
 * The database connection both components share: the role's URL (private host, verify-full), its password from the
 * database component's bind variable, and the cluster's CA (App Platform fills both in at deploy time).
 */
function databaseEnv(appUrl: pulumi.Input<string>): Env[] {
  return [
    general(BOOTSTRAP_ENV.appUrl, appUrl),
    general(BRIDGE_ENV.pgPassword, bindVariable('PASSWORD')),
    general(BRIDGE_ENV.databaseCaCert, bindVariable('CA_CERT')),
  ];
}

export class AppComponents {
  /** Every secret placed in the spec, for the `sealedSecrets` output. */
  public readonly secrets: PlacedSecret[] = [];

  constructor(private readonly inputs: ComponentInputs) {}

  private secret(placed: PlacedSecret): pulumi.Output<string> {
    this.secrets.push(placed);
    return secretValue(placed.key, placed.plain, this.inputs.previousSecrets, this.inputs.sealScope);
  }

  private image(kind: 'services' | 'jobs', component: string): pulumi.Input<digitalocean.types.input.AppSpecServiceImage> {
    const { image, imageCredentials } = this.inputs;
    if (imageCredentials === undefined) return image;
    const credentials = this.secret(imageCredentialsSecret(kind, component, imageCredentials));
    return image.apply((source) => ({ ...source, registryCredentials: credentials }));
  }

  service(): digitalocean.types.input.AppSpecService {
    const { args } = this.inputs;
    const probes = probePlan();
    const plain = bridgeEnvironment(args, { trustProxy: args.trustProxy });
    const envs: Env[] = [
      ...Object.entries(plain).map(([key, value]) => general(key, value)),
      ...databaseEnv(this.inputs.appUrl),
      {
        key: BRIDGE_ENV.session,
        value: this.secret(envSecret('services', SERVICE_NAME, BRIDGE_ENV.session, this.inputs.scimSession)),
        scope: 'RUN_TIME',
        type: 'SECRET',
      },
    ];
    if (this.inputs.googleCredentials !== undefined) {
      const value = this.secret(envSecret('services', SERVICE_NAME, BRIDGE_ENV.googleCredentials, this.inputs.googleCredentials));
      envs.push({ key: BRIDGE_ENV.googleCredentials, value, scope: 'RUN_TIME', type: 'SECRET' });
    }
    if (this.inputs.webhookSecrets !== undefined) {
      const value = this.secret(envSecret('services', SERVICE_NAME, BRIDGE_ENV.webhookSecrets, this.inputs.webhookSecrets));
      envs.push({ key: BRIDGE_ENV.webhookSecrets, value, scope: 'RUN_TIME', type: 'SECRET' });
    }
    const alertTo = args.alertEmails.length ? { destinations: { emails: [...args.alertEmails] } } : {};
    return {
      name: SERVICE_NAME,
      image: this.image('services', SERVICE_NAME),
      httpPort: BRIDGE_PORT,
      instanceSizeSlug: args.instanceSize,
      ...(args.autoscale
        ? { autoscaling: { minInstanceCount: args.minReplicas, maxInstanceCount: args.maxReplicas, metrics: { cpu: { percent: args.targetCpuPercent } } } }
        : { instanceCount: args.minReplicas }),
      // Readiness: traffic goes only to instances whose session and store answer. App Platform has no startup probe,
      // so the readiness check allows the start-up grace before it counts failures.
      healthCheck: {
        httpPath: probes.readiness.path,
        port: probes.readiness.port,
        initialDelaySeconds: probes.startup.periodSeconds,
        periodSeconds: probes.readiness.periodSeconds,
        timeoutSeconds: probes.readiness.timeoutSeconds,
        successThreshold: probes.readiness.successThreshold,
        failureThreshold: Math.max(probes.readiness.failureThreshold, Math.ceil(BRIDGE_PROBES.startupGraceSeconds / probes.readiness.periodSeconds)),
      },
      // Liveness restarts the instance, so it is the shallow /ping (a database outage must not become restarts) and
      // waits out the start-up grace.
      livenessHealthCheck: {
        httpPath: probes.liveness.path,
        port: probes.liveness.port,
        initialDelaySeconds: BRIDGE_PROBES.startupGraceSeconds,
        periodSeconds: probes.liveness.periodSeconds,
        timeoutSeconds: probes.liveness.timeoutSeconds,
        successThreshold: probes.liveness.successThreshold,
        failureThreshold: probes.liveness.failureThreshold,
      },
      termination: { gracePeriodSeconds: BRIDGE_SIZING.shutdownGraceSeconds },
      envs,
      alerts: [{ rule: 'CPU_UTILIZATION', operator: 'GREATER_THAN', value: args.cpuAlertPercent, window: 'TEN_MINUTES', ...alertTo }],
    };
  }

  /** `scim-bridge db bootstrap` before every deployment, with the administrator's URL that only this job holds. */
  bootstrapJob(): digitalocean.types.input.AppSpecJob {
    const { args } = this.inputs;
    return {
      name: BOOTSTRAP_JOB_NAME,
      kind: 'PRE_DEPLOY',
      image: this.image('jobs', BOOTSTRAP_JOB_NAME),
      runCommand: BOOTSTRAP_RUN_COMMAND,
      instanceSizeSlug: JOB_INSTANCE_SIZE,
      instanceCount: 1,
      envs: [
        general(BRIDGE_ENV.logLevel, args.logLevel),
        ...databaseEnv(this.inputs.appUrl),
        {
          key: BOOTSTRAP_ENV.adminUrl,
          value: this.secret(envSecret('jobs', BOOTSTRAP_JOB_NAME, BOOTSTRAP_ENV.adminUrl, this.inputs.adminUrl)),
          scope: 'RUN_TIME',
          type: 'SECRET',
        },
      ],
    };
  }
}
