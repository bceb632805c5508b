/**
 * The DigitalOcean component's args: the shared vocabulary (ScimBridgeBaseArgs) plus what only App Platform and
 * DigitalOcean have, resolved once. Every problem names the arg; a Pulumi output or promise is passed unchecked.
 */
import type * as pulumi from '@pulumi/pulumi';
import { isUnresolved } from '../pulumi';
import {
  ArgError,
  type WebhookSecretsArg,
  checkWebhookSecrets,
  BASE_DEFAULTS,
  type ResolvedBridgeArgs,
  type ScimBridgeBaseArgs,
  type TrustProxy,
  resolveBridgeArgs,
} from '../common';
import { type AppImageSource, parseImageReference } from './image-reference';
import {
  BACKUP_RETENTION_DAYS,
  MAX_INSTANCES,
  SMALLEST_DATABASE_SIZE,
  appRegionOf,
  databaseSizeProblem,
  isSmallerDatabaseSize,
  instanceSize,
  instanceSizeProblem,
  pickDatabaseSize,
  pickInstanceSize,
} from './platform';
import type { SealedSecrets } from './secrets';

export const COMPONENT = 'ScimBridgeDigitalOcean';

export type RegistryTier = 'starter' | 'basic' | 'professional';
export const REGISTRY_TIERS: readonly RegistryTier[] = ['starter', 'basic', 'professional'];

export interface ScimBridgeDigitalOceanArgs extends ScimBridgeBaseArgs, WebhookSecretsArg<pulumi.Input<string>> {
  /** The scimsession document (JSON). Kept a Pulumi secret and sent to App Platform as an encrypted (SECRET) value. */
  readonly scimSession: pulumi.Input<string>;

  /** Datacenter for the database and the VPC, e.g. `fra1`; the app runs in its App Platform region (`fra`). */
  readonly region: string;

  /**
   * A zone in this account's DigitalOcean DNS that holds `domain`; App Platform then creates the record itself.
   * @default none: the CNAME to create elsewhere is in `dnsRecords`
   */
  readonly dnsZone?: string;

  /**
   * Who receives deployment, domain and CPU alerts (App Platform mails members of the team only).
   * @default the team's own address
   */
  readonly alertEmails?: readonly string[];

  /** CPU percent over ten minutes that raises an alert (service and database). @default 80 */
  readonly cpuAlertPercent?: number;

  /**
   * App Platform instance size. Autoscaling (maxReplicas above minReplicas) needs a dedicated-CPU size (`apps-d-*`).
   * @default the smallest size with `cpu` and `memoryMiB`: shared CPU for a fixed count, dedicated CPU when autoscaling
   */
  readonly instanceSize?: string;

  /**
   * An image to run instead of building bridge/: DigitalOcean Container Registry, Docker Hub or GHCR.
   * @default build bridge/Dockerfile at `pulumi up` and push it to DigitalOcean Container Registry
   */
  readonly image?: string;

  /** `user:token` for a private Docker Hub or GHCR `image`. @default none (public image, or DOCR) */
  readonly imageCredentials?: pulumi.Input<string>;

  /** The account's existing container registry (an account has one). @default create one on `registryTier` */
  readonly registryName?: string;

  /** Tier of a registry this component creates. @default 'starter' */
  readonly registryTier?: RegistryTier;

  /** The Google service-account key (JSON) for `googleWorkspace`, kept secret. @default none */
  readonly googleCredentials?: pulumi.Input<string>;

  /** App name, unique in the account. @default 'scim-bridge' */
  readonly appName?: string;

  /** DigitalOcean project for the app and the database. @default the account's default project */
  readonly projectId?: string;

  /**
   * A VPC in `region` for the database and the app (changing it later replaces the database, which protection refuses).
   * @default the region's default VPC, where the database lands (and where clusters made before this option already are)
   */
  readonly vpcId?: pulumi.Input<string>;

  /**
   * Proxies in front of the bridge that append to X-Forwarded-For (SCIM_TRUST_PROXY). App Platform's edge appends the
   * address it received the request from, and also sends it as `do-connecting-ip` (which the bridge does not read;
   * reported e.g. in mixpanel/tracking-proxy#31). One hop is the count a client cannot extend by sending its own
   * X-Forwarded-For: too few hops only coarsens the address, too many would let a client choose it.
   * @default 1
   */
  readonly trustProxy?: TrustProxy;

  /**
   * What App Platform returned for each secret last time (the stack's `sealedSecrets` output). With it, unchanged
   * secrets are sent back in App Platform's own encrypted form, so a preview shows no change; a changed one is sent anew.
   * @default none: every secret is sent as given
   */
  readonly previousSecrets?: pulumi.Input<SealedSecrets | undefined>;
}

export interface ResolvedDigitalOceanArgs extends ResolvedBridgeArgs {
  readonly appRegion: string;
  readonly region: string;
  readonly dnsZone?: string;
  readonly alertEmails: readonly string[];
  readonly cpuAlertPercent: number;
  readonly instanceSize: string;
  readonly autoscale: boolean;
  readonly databaseSize: string;
  readonly databaseNodes: number;
  readonly givenImage?: AppImageSource;
  readonly registryTier: RegistryTier;
  readonly appName: string;
  readonly trustProxy: TrustProxy;
}

const APP_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[a-z]{2,}$/i;

export function resolveDigitalOceanArgs(args: ScimBridgeDigitalOceanArgs): ResolvedDigitalOceanArgs {
  const fail = (arg: string, problem: string): never => {
    throw new ArgError(COMPONENT, arg, problem);
  };
  // App Platform's sizes, counts and names are chosen from these when the program runs: an output cannot stand in.
  const known = {
    domain: args.domain,
    region: args.region,
    minReplicas: args.minReplicas,
    maxReplicas: args.maxReplicas,
    cpu: args.cpu,
    memoryMiB: args.memoryMiB,
    'database.size': args.database?.size,
  };
  for (const [arg, value] of Object.entries(known)) {
    if (isUnresolved(value))
      fail(arg, 'must be a plain value, not a Pulumi output: App Platform sizes, counts and names are chosen from it when the program runs');
  }
  // On App Platform the default is a fixed count: autoscaling is a dedicated-CPU price, so it is one switch away.
  const maxReplicas = args.maxReplicas ?? args.minReplicas ?? BASE_DEFAULTS.minReplicas;
  const base = resolveBridgeArgs(
    { ...args, maxReplicas },
    { component: COMPONENT, isUnresolved, maxReplicasCeiling: MAX_INSTANCES, minCpu: 1, requiresOneReplica: true },
  );
  if (base.minReplicas < 1) fail('minReplicas', 'must be at least 1 on App Platform (it does not scale to zero)');

  const appRegion =
    appRegionOf(args.region) ??
    fail('region', `must be a datacenter slug where App Platform runs, e.g. fra1, nyc3, ams3, sfo3, sgp1, lon1, tor1, blr1, syd1 (got "${args.region}")`);
  const autoscale = base.maxReplicas > base.minReplicas;
  const size = args.instanceSize ?? pickInstanceSize(base.cpu, base.memoryMiB, autoscale, base.minReplicas)?.slug;
  if (!size) fail('memoryMiB', `(${base.memoryMiB}) and cpu (${base.cpu}) exceed every App Platform instance size`);
  const sizeProblem = instanceSizeProblem(size!, base.minReplicas, base.maxReplicas);
  if (sizeProblem) fail('instanceSize', sizeProblem);
  const chosen = instanceSize(size!)!;
  if (args.instanceSize && (chosen.memoryMiB < base.memoryMiB || chosen.vcpus < base.cpu) && (args.memoryMiB !== undefined || args.cpu !== undefined)) {
    fail('instanceSize', `${size} has ${chosen.vcpus} vCPU and ${chosen.memoryMiB} MiB, less than cpu (${base.cpu}) and memoryMiB (${base.memoryMiB}) ask for`);
  }

  const standby = base.database.highAvailability;
  const picked =
    pickDatabaseSize(base.maxReplicas, standby)?.slug ?? fail('maxReplicas', `(${base.maxReplicas}) needs more database connections than any size offers`);
  // DigitalOcean cannot shrink a cluster ("Database nodes cannot be resized to smaller sizes due to the risk of data
  // loss", doctl databases resize): the size the cluster runs is kept when the pick would be smaller (scaling down).
  const running = args.previousDeployment?.databaseSize;
  const given = base.database.size;
  if (given !== undefined && running !== undefined && isSmallerDatabaseSize(given, running)) {
    fail(
      'database.size',
      `is ${given}, smaller than ${running} the cluster runs: DigitalOcean cannot resize a database to a smaller size; keep ${running} (or remove database.size)`,
    );
  }
  const databaseSize =
    given ??
    (running !== undefined && databaseSizeProblem(running, base.maxReplicas) === undefined && !isSmallerDatabaseSize(running, picked) ? running : picked);
  const dbProblem = databaseSizeProblem(databaseSize, base.maxReplicas);
  if (dbProblem) fail('database.size', dbProblem);
  if (standby && databaseSize === SMALLEST_DATABASE_SIZE) {
    fail(
      'database.highAvailability',
      `needs a database size above ${SMALLEST_DATABASE_SIZE} (DigitalOcean offers standby nodes on every size but the smallest): set database.size to db-s-1vcpu-2gb or larger`,
    );
  }
  if (args.database?.backupRetentionDays !== undefined && base.database.backupRetentionDays !== BACKUP_RETENTION_DAYS) {
    fail(
      'database.backupRetentionDays',
      `must be ${BACKUP_RETENTION_DAYS}: DigitalOcean keeps every cluster's backups (point-in-time recovery) for ${BACKUP_RETENTION_DAYS} days, not configurable`,
    );
  }

  const dnsZone = args.dnsZone?.trim().toLowerCase().replace(/\.$/, '') || undefined;
  if (dnsZone && !(base.domain === dnsZone || base.domain.endsWith(`.${dnsZone}`))) fail('dnsZone', `must contain domain ${base.domain} (got "${dnsZone}")`);

  const alertEmails = [...(args.alertEmails ?? [])];
  const badEmails = alertEmails.filter((e) => !EMAIL.test(e));
  if (badEmails.length) fail('alertEmails', `must be email addresses of team members (not ${badEmails.map((b) => `"${b}"`).join(', ')})`);
  const cpuAlertPercent = args.cpuAlertPercent ?? 80;
  if (!Number.isInteger(cpuAlertPercent) || cpuAlertPercent < 10 || cpuAlertPercent > 100)
    fail('cpuAlertPercent', `must be a whole number from 10 to 100, got ${cpuAlertPercent}`);

  let givenImage: AppImageSource | undefined;
  if (args.image !== undefined) {
    try {
      givenImage = parseImageReference(args.image);
    } catch (err) {
      fail('image', (err as Error).message);
    }
  }
  if (args.imageCredentials !== undefined && givenImage?.registryType !== 'DOCKER_HUB' && givenImage?.registryType !== 'GHCR') {
    fail(
      'imageCredentials',
      'applies only to a private Docker Hub or GHCR image given in image (App Platform pulls from DigitalOcean Container Registry itself)',
    );
  }
  if (args.registryName !== undefined && givenImage) fail('registryName', 'is for building the image; remove it or remove image');
  const registryTier = args.registryTier ?? 'starter';
  if (!REGISTRY_TIERS.includes(registryTier)) fail('registryTier', `must be one of starter, basic, professional (got "${registryTier}")`);

  checkWebhookSecrets(COMPONENT, base.webhooks, args.webhookSecrets !== undefined);
  if (args.googleCredentials !== undefined && !base.googleWorkspace)
    fail('googleCredentials', 'is the key of the googleWorkspace connector: set googleWorkspace too, or remove it');
  if (base.googleWorkspace && args.googleCredentials === undefined) fail('googleWorkspace', 'needs googleCredentials (the service-account key, as a secret)');

  const appName = args.appName ?? 'scim-bridge';
  if (!APP_NAME.test(appName)) fail('appName', `must be 2–32 lower-case letters, digits or dashes, starting with a letter (got "${appName}")`);

  return {
    ...base,
    appRegion,
    region: args.region,
    dnsZone,
    alertEmails,
    cpuAlertPercent,
    instanceSize: size!,
    autoscale,
    databaseSize,
    databaseNodes: base.database.highAvailability ? 2 : 1,
    givenImage,
    registryTier,
    appName,
    trustProxy: args.trustProxy ?? 1,
  };
}
