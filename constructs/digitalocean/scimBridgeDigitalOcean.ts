/**
 * ScimBridgeDigitalOcean: the SCIM bridge on DigitalOcean App Platform, with a Managed PostgreSQL store that only the
 * app may reach, the scimsession as an encrypted app secret, a custom domain with App Platform's managed certificate,
 * CPU autoscaling and alerts by email.
 */
import * as digitalocean from '@pulumi/digitalocean';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import {
  BRIDGE_DEFAULTS,
  BRIDGE_ENV,
  BRIDGE_PATHS,
  BRIDGE_PORT,
  BRIDGE_PROBES,
  BRIDGE_SIZING,
  scimBaseUrl,
} from '../../contract';
import { buildBridgeImage } from '../bridge-image';
import { AppImageSource, DOCR_HOST, dockerLogin, parseImageReference } from './image';
import {
  DEFAULT_INSTANCE_SIZE,
  DEFAULT_POSTGRES_VERSION,
  MAX_INSTANCES,
  POSTGRES_VERSIONS,
  appRegionOf,
  databaseSizeProblem,
  emailProblem,
  instanceSizeProblem,
  zoneProblem,
} from './platform';

export type RegistryTier = 'starter' | 'basic' | 'professional';

export interface ScimBridgeDigitalOceanArgs {
  /** The scimsession document (JSON). Pass a Pulumi secret; it is kept secret through to the app spec either way. */
  readonly scimSession: pulumi.Input<string>;
  /** Datacenter slug for the database, e.g. `fra1`; the app runs in the matching App Platform region (`fra`). */
  readonly region: string;
  /** Host name identity providers call, e.g. `scim.example.com`; served with App Platform's managed certificate. */
  readonly domain: string;
  /**
   * A DNS zone hosted on DigitalOcean that contains `domain`; App Platform then creates the record in it.
   * @default none: the CNAME to add at your DNS provider is in `dnsRecord`
   */
  readonly dnsZone?: string;
  /** Addresses that receive deployment, domain and CPU alerts (App Platform sends only to members of the team). */
  readonly alertEmails: readonly string[];
  /**
   * App Platform instance size; autoscaling needs a dedicated-CPU size (`apps-d-*`).
   * @default 'apps-d-1vcpu-1gb'
   */
  readonly instanceSize?: string;
  /** @default BRIDGE_SIZING.minReplicas (2) */
  readonly minReplicas?: number;
  /** Equal to minReplicas for a fixed instance count. @default BRIDGE_SIZING.maxReplicas (6) */
  readonly maxReplicas?: number;
  /** Average CPU percent App Platform scales out above. @default BRIDGE_SIZING.targetCpuPercent (60) */
  readonly targetCpuPercent?: number;
  /** CPU percent, over ten minutes, that raises an alert (the app and the database). @default 80 */
  readonly cpuAlertPercent?: number;
  /**
   * An image to run instead of building bridge/: on the account's DigitalOcean Container Registry, Docker Hub or GHCR.
   * @default build bridge/Dockerfile at `pulumi up` and push it to DigitalOcean Container Registry
   */
  readonly image?: string;
  /** `user:token` for a private Docker Hub or GHCR image. @default none (a public image, or DOCR) */
  readonly imageCredentials?: pulumi.Input<string>;
  /** Name of the account's existing container registry (an account has one). @default create one */
  readonly registryName?: string;
  /** Subscription tier of a registry this component creates. @default 'starter' */
  readonly registryTier?: RegistryTier;
  /** Seconds the registry push credentials live; `pulumi up --refresh` renews expired ones. @default 30 days */
  readonly pushCredentialsSeconds?: number;
  /** Docker build context. @default the repository root */
  readonly buildContext?: string;
  /** Dockerfile, relative to `buildContext`. @default BRIDGE_IMAGE.dockerfile (bridge/Dockerfile) */
  readonly dockerfile?: string;
  /** Managed PostgreSQL node size. @default 'db-s-1vcpu-2gb' */
  readonly databaseSize?: string;
  /** Nodes in the cluster: 1, or 2–3 for standby nodes that take over on failure. @default 1 */
  readonly databaseNodes?: number;
  /** PostgreSQL major version. @default '17' */
  readonly postgresVersion?: string;
  /** Email domains the bridge provisions. @default any */
  readonly allowedDomains?: readonly string[];
  /** App name, unique in the account. @default 'scim-bridge' */
  readonly appName?: string;
  /** DigitalOcean project for the app and the database. @default the account's default project */
  readonly projectId?: string;
  /**
   * App Platform returns SECRET values encrypted, so they are ignored on updates to keep previews clean. Set true for
   * the update that must send a changed scimSession or imageCredentials.
   * @default false
   */
  readonly applySecretChanges?: boolean;
}

/** The DNS record to add at your DNS provider when the domain's zone is not on DigitalOcean. */
export interface DnsRecordToCreate {
  type: 'CNAME';
  /** Fully qualified name of the record. */
  name: string;
  /** The app's default host, fully qualified (trailing dot). */
  value: string;
}

export const SERVICE_NAME = 'bridge';
export const DATABASE_COMPONENT = 'db';
export const DOCR_REPOSITORY = 'scim-bridge';
export const DEFAULT_DATABASE_SIZE = 'db-s-1vcpu-2gb';
const DEFAULT_CPU_ALERT_PERCENT = 80;
const DEFAULT_PUSH_CREDENTIALS_SECONDS = 30 * 24 * 3600;

/** Spec paths App Platform returns encrypted; ignored on updates unless applySecretChanges. */
export const SESSION_SPEC_PATH = 'spec.envs';
export const IMAGE_CREDENTIALS_SPEC_PATH = 'spec.services[0].image.registryCredentials';

export class ScimBridgeDigitalOcean extends pulumi.ComponentResource {
  public readonly app: digitalocean.App;
  public readonly databaseCluster: digitalocean.DatabaseCluster;
  public readonly database: digitalocean.DatabaseDb;
  public readonly databaseUser: digitalocean.DatabaseUser;
  public readonly databaseFirewall: digitalocean.DatabaseFirewall;
  public readonly databaseCpuAlert: digitalocean.MonitorAlert;
  /** Created only when building the image and no registryName was given. */
  public readonly registry?: digitalocean.ContainerRegistry;
  /** Present when the image is built from bridge/. */
  public readonly image?: dockerBuild.Image;
  /** The image source in the app spec. */
  public readonly imageSource: pulumi.Output<AppImageSource>;
  /** SCIM base URL for the identity provider (custom domain, no trailing slash). */
  public readonly bridgeUrl: string;
  /** The app's own host name on ondigitalocean.app. */
  public readonly defaultHost: pulumi.Output<string>;
  /** The record to add at your DNS provider; undefined when App Platform manages it in `dnsZone`. */
  public readonly dnsRecord?: pulumi.Output<DnsRecordToCreate>;

  constructor(name: string, args: ScimBridgeDigitalOceanArgs, opts?: pulumi.ComponentResourceOptions) {
    super('scim-bridge:digitalocean:ScimBridgeDigitalOcean', name, {}, opts);
    const parent = { parent: this };

    const instanceSize = args.instanceSize ?? DEFAULT_INSTANCE_SIZE;
    const minReplicas = args.minReplicas ?? BRIDGE_SIZING.minReplicas;
    const maxReplicas = args.maxReplicas ?? Math.max(BRIDGE_SIZING.maxReplicas, minReplicas);
    const targetCpuPercent = args.targetCpuPercent ?? BRIDGE_SIZING.targetCpuPercent;
    const cpuAlertPercent = args.cpuAlertPercent ?? DEFAULT_CPU_ALERT_PERCENT;
    const databaseSize = args.databaseSize ?? DEFAULT_DATABASE_SIZE;
    const databaseNodes = args.databaseNodes ?? 1;
    const postgresVersion = args.postgresVersion ?? DEFAULT_POSTGRES_VERSION;
    const appName = args.appName ?? 'scim-bridge';
    const applySecretChanges = args.applySecretChanges ?? false;

    const fail = (arg: string, problem: string): never => {
      throw new Error(`ScimBridgeDigitalOcean ${name}: ${arg} ${problem}`);
    };
    const appRegion = appRegionOf(args.region) ?? fail('region', `must be a datacenter slug where App Platform runs, e.g. fra1 or nyc3 (got "${args.region}")`);
    if (!Number.isInteger(minReplicas) || minReplicas < 1 || minReplicas > MAX_INSTANCES) fail('minReplicas', `must be a whole number from 1 to ${MAX_INSTANCES}`);
    if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas || maxReplicas > MAX_INSTANCES) fail('maxReplicas', `must be a whole number from minReplicas (${minReplicas}) to ${MAX_INSTANCES}`);
    const sizeProblem = instanceSizeProblem(instanceSize, minReplicas, maxReplicas);
    if (sizeProblem) fail('instanceSize', sizeProblem);
    const dbProblem = databaseSizeProblem(databaseSize, maxReplicas, BRIDGE_SIZING.databasePoolSize);
    if (dbProblem) fail('databaseSize', dbProblem);
    if (!Number.isInteger(databaseNodes) || databaseNodes < 1 || databaseNodes > 3) fail('databaseNodes', 'must be 1, 2 or 3');
    if (!(POSTGRES_VERSIONS as readonly string[]).includes(postgresVersion)) fail('postgresVersion', `must be one of ${POSTGRES_VERSIONS.join(', ')}`);
    const mailProblem = emailProblem(args.alertEmails);
    if (mailProblem) fail('alertEmails', mailProblem);
    if (args.dnsZone) {
      const problem = zoneProblem(args.domain, args.dnsZone);
      if (problem) fail('dnsZone', problem);
    }
    const given = args.image === undefined ? undefined : parseGiven(args.image, (problem) => fail('image', problem));
    if (args.imageCredentials !== undefined && given?.registryType !== 'DOCKER_HUB' && given?.registryType !== 'GHCR') {
      fail('imageCredentials', 'applies only to a given Docker Hub or GHCR image (App Platform pulls from DigitalOcean Container Registry itself)');
    }
    const alertEmails = [...args.alertEmails];

    // The store: Managed PostgreSQL, encrypted at rest by DigitalOcean and reached over TLS only.
    this.databaseCluster = new digitalocean.DatabaseCluster(
      `${name}-pg`,
      {
        engine: 'pg',
        version: postgresVersion,
        region: args.region,
        size: databaseSize,
        nodeCount: databaseNodes,
        projectId: args.projectId,
        tags: ['scim-bridge'],
      },
      parent,
    );
    this.database = new digitalocean.DatabaseDb(
      `${name}-db`,
      { clusterId: this.databaseCluster.id, name: BRIDGE_DEFAULTS.databaseName },
      parent,
    );
    // Its own role, not the cluster's doadmin.
    this.databaseUser = new digitalocean.DatabaseUser(
      `${name}-db-user`,
      { clusterId: this.databaseCluster.id, name: BRIDGE_DEFAULTS.databaseUser },
      parent,
    );

    // The image: a given reference, or bridge/ built now and pushed to the account's registry.
    if (given) {
      this.imageSource = pulumi.output(given);
    } else {
      let registryName: pulumi.Output<string>;
      if (args.registryName) {
        registryName = pulumi.output(args.registryName);
      } else {
        this.registry = new digitalocean.ContainerRegistry(
          `${name}-registry`,
          { subscriptionTierSlug: args.registryTier ?? 'starter' },
          parent,
        );
        registryName = this.registry.name;
      }
      const push = new digitalocean.ContainerRegistryDockerCredentials(
        `${name}-push`,
        { registryName, write: true, expirySeconds: args.pushCredentialsSeconds ?? DEFAULT_PUSH_CREDENTIALS_SECONDS },
        parent,
      );
      const login = push.dockerCredentials.apply((json) => dockerLogin(json, DOCR_HOST));
      this.image = buildBridgeImage(
        `${name}-image`,
        {
          buildContext: args.buildContext,
          dockerfile: args.dockerfile,
          tag: pulumi.interpolate`${DOCR_HOST}/${registryName}/${DOCR_REPOSITORY}:latest`,
          registry: {
            address: DOCR_HOST,
            username: pulumi.secret(login.apply((l) => l.username)),
            password: pulumi.secret(login.apply((l) => l.password)),
          },
        },
        parent,
      );
      // By digest, so every new build is a new deployment.
      this.imageSource = this.image.digest.apply((digest): AppImageSource => ({ registryType: 'DOCR', repository: DOCR_REPOSITORY, digest }));
    }

    const imageSpec: digitalocean.types.input.AppSpecServiceImage = given
      ? { ...given, ...(args.imageCredentials !== undefined ? { registryCredentials: pulumi.secret(args.imageCredentials) } : {}) }
      : { registryType: 'DOCR', repository: DOCR_REPOSITORY, digest: this.imageSource.apply((s) => s.digest!) };

    const emailsTo = { emails: alertEmails };
    const env = (key: string, value: pulumi.Input<string>) => ({ key, value, scope: 'RUN_TIME', type: 'GENERAL' });
    const ignoreChanges = applySecretChanges
      ? []
      : [SESSION_SPEC_PATH, ...(args.imageCredentials !== undefined ? [IMAGE_CREDENTIALS_SPEC_PATH] : [])];

    this.app = new digitalocean.App(
      `${name}-app`,
      {
        projectId: args.projectId,
        spec: {
          name: appName,
          region: appRegion,
          // App-level envs hold only the scimsession, so ignoring this one path ignores nothing else.
          envs: [{ key: BRIDGE_ENV.session, value: pulumi.secret(args.scimSession), scope: 'RUN_TIME', type: 'SECRET' }],
          domainNames: [{ name: args.domain, type: 'PRIMARY', zone: args.dnsZone }],
          alerts: [
            { rule: 'DEPLOYMENT_FAILED', destinations: emailsTo },
            { rule: 'DOMAIN_FAILED', destinations: emailsTo },
          ],
          databases: [
            {
              name: DATABASE_COMPONENT,
              engine: 'PG',
              production: true,
              clusterName: this.databaseCluster.name,
              dbName: this.database.name,
              dbUser: this.databaseUser.name,
            },
          ],
          ingress: { rules: [{ component: { name: SERVICE_NAME }, match: { path: { prefix: '/' } } }] },
          services: [
            {
              name: SERVICE_NAME,
              image: imageSpec,
              httpPort: BRIDGE_PORT,
              instanceSizeSlug: instanceSize,
              ...(minReplicas < maxReplicas
                ? {
                    autoscaling: {
                      minInstanceCount: minReplicas,
                      maxInstanceCount: maxReplicas,
                      metrics: { cpu: { percent: targetCpuPercent } },
                    },
                  }
                : { instanceCount: minReplicas }),
              // Readiness: traffic goes only to instances whose session and store answer.
              healthCheck: {
                httpPath: BRIDGE_PATHS.readiness,
                port: BRIDGE_PORT,
                initialDelaySeconds: 5,
                periodSeconds: BRIDGE_PROBES.intervalSeconds,
                timeoutSeconds: BRIDGE_PROBES.timeoutSeconds,
                successThreshold: BRIDGE_PROBES.healthyThreshold,
                failureThreshold: BRIDGE_PROBES.unhealthyThreshold,
              },
              // Liveness restarts the instance, so it must not fail when only the database does.
              livenessHealthCheck: {
                httpPath: BRIDGE_PATHS.liveness,
                port: BRIDGE_PORT,
                initialDelaySeconds: BRIDGE_PROBES.startupGraceSeconds,
                periodSeconds: BRIDGE_PROBES.intervalSeconds,
                timeoutSeconds: BRIDGE_PROBES.timeoutSeconds,
                successThreshold: 1,
                failureThreshold: BRIDGE_PROBES.unhealthyThreshold,
              },
              termination: { gracePeriodSeconds: BRIDGE_SIZING.shutdownGraceSeconds },
              envs: [
                env(BRIDGE_ENV.port, String(BRIDGE_PORT)),
                // A bind variable: App Platform fills in the bridge user's URL (with sslmode=require) at deploy time,
                // so the database password never passes through Pulumi.
                env(BRIDGE_ENV.databaseUrl, `\${${DATABASE_COMPONENT}.DATABASE_URL}`),
                env(BRIDGE_ENV.pgSslMode, 'require'),
                ...(args.allowedDomains?.length ? [env(BRIDGE_ENV.allowedDomains, args.allowedDomains.join(','))] : []),
              ],
              alerts: [
                {
                  rule: 'CPU_UTILIZATION',
                  operator: 'GREATER_THAN',
                  value: cpuAlertPercent,
                  window: 'TEN_MINUTES',
                  destinations: emailsTo,
                },
              ],
            },
          ],
        },
      },
      { ...parent, ignoreChanges },
    );

    // Trusted sources: the app and nothing else.
    this.databaseFirewall = new digitalocean.DatabaseFirewall(
      `${name}-pg-firewall`,
      { clusterId: this.databaseCluster.id, rules: [{ type: 'app', value: this.app.id }] },
      parent,
    );
    this.databaseCpuAlert = new digitalocean.MonitorAlert(
      `${name}-pg-cpu`,
      {
        type: 'v1/dbaas/alerts/cpu_alerts',
        compare: 'GreaterThan',
        value: cpuAlertPercent,
        window: '10m',
        entities: [this.databaseCluster.id],
        alerts: { emails: alertEmails },
        description: `SCIM bridge database CPU above ${cpuAlertPercent}%`,
        enabled: true,
      },
      parent,
    );

    this.bridgeUrl = scimBaseUrl(args.domain);
    this.defaultHost = this.app.defaultIngress.apply((url) => url.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
    if (!args.dnsZone) {
      this.dnsRecord = this.defaultHost.apply((host): DnsRecordToCreate => ({ type: 'CNAME', name: args.domain, value: `${host}.` }));
    }

    this.registerOutputs({
      bridgeUrl: this.bridgeUrl,
      appId: this.app.id,
      defaultHost: this.defaultHost,
      dnsRecord: this.dnsRecord,
      databaseCluster: this.databaseCluster.name,
    });
  }
}

function parseGiven(ref: string, fail: (problem: string) => never): AppImageSource {
  try {
    return parseImageReference(ref);
  } catch (err) {
    return fail((err as Error).message);
  }
}
