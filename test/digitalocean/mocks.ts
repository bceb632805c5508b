/**
 * DigitalOcean for the shared Pulumi harness: the computed outputs its resources return, including the one App
 * Platform behaviour the secret handling is built around: a SECRET env value (and image registry credentials) sent
 * in plain text comes back encrypted as `EV[1:…]`, and an `EV[…]` value sent back is kept as it is
 * (digitalocean/terraform-provider-digitalocean#514, #1137, #1603).
 */
import { createHash } from 'node:crypto';
import { type CloudMocks, type Run, SESSION, runStack } from '../support/pulumi-harness';

export { SESSION };

export const DEFAULT_INGRESS = 'https://scim-bridge-x7k2p.ondigitalocean.app';
export const DEFAULT_HOST = 'scim-bridge-x7k2p.ondigitalocean.app';
export const DIGEST = `sha256:${'ab'.repeat(32)}`;
export const PUSH_USER = 'ops@example.com';
export const PUSH_TOKEN = 'dop_v1_pushtoken';
export const IMAGE_CREDENTIALS = 'octocat:ghp_imagepulltoken';
export const GOOGLE_KEY = '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\\nMIIgoogle\\n-----END PRIVATE KEY-----\\n"}';
/** doadmin's generated password, with characters a URL must encode. */
export const ADMIN_PASSWORD = 'AVNS_a/b:c@d?e#f%g';
export const PRIVATE_HOST = 'private-scim-bridge-pg-do-user-1-0.b.db.ondigitalocean.com';
export const DEFAULT_VPC = 'c22d8f48-4bc4-49f5-8ca0-58e7164427ac';

/** The minimum a working stack needs (scimSession is added as a secret unless overridden). */
export const BASE_CONFIG: Record<string, string> = {
  region: 'fra1',
  domain: 'scim.example.com',
  scimSession: SESSION,
};

export const T = {
  app: 'digitalocean:index/app:App',
  cluster: 'digitalocean:index/databaseCluster:DatabaseCluster',
  db: 'digitalocean:index/databaseDb:DatabaseDb',
  user: 'digitalocean:index/databaseUser:DatabaseUser',
  firewall: 'digitalocean:index/databaseFirewall:DatabaseFirewall',
  monitor: 'digitalocean:index/monitorAlert:MonitorAlert',
  registry: 'digitalocean:index/containerRegistry:ContainerRegistry',
  credentials: 'digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials',
  image: 'docker-build:index:Image',
  stackReference: 'pulumi:pulumi:StackReference',
  component: 'scim-bridge:digitalocean:ScimBridgeDigitalOcean',
  database: 'scim-bridge:digitalocean:Database',
  bridgeImage: 'scim-bridge:digitalocean:Image',
} as const;

/** App Platform's encryption, modelled: a stable `EV[1:…]` per plain value; an `EV[…]` value is kept as sent. */
export function appPlatformSeal(value: string): string {
  if (/^EV\[\d+:/.test(value)) return value;
  return `EV[1:${createHash('sha256').update(value).digest('base64')}]`;
}

function sealComponent(component: any): any {
  const envs = component.envs?.map((e: any) => (e.type === 'SECRET' ? { ...e, value: appPlatformSeal(e.value) } : e));
  const image = component.image?.registryCredentials
    ? { ...component.image, registryCredentials: appPlatformSeal(component.image.registryCredentials) }
    : component.image;
  return { ...component, ...(envs ? { envs } : {}), ...(image ? { image } : {}) };
}

/** The spec as App Platform returns it after an update. */
export function returnedSpec(spec: any): any {
  return { ...spec, services: spec.services?.map(sealComponent), jobs: spec.jobs?.map(sealComponent) };
}

export interface DigitalOceanRunOptions {
  /** `scim-bridge:` keys stored as secrets. @default ['scimSession'] */
  readonly secretKeys?: readonly string[];
  /** The stack's outputs from its last update, as its self-reference reads them. @default none (a new stack) */
  readonly previousOutputs?: Record<string, any>;
}

export function digitalOceanMocks(previousOutputs: Record<string, any> = {}): CloudMocks {
  return {
    cloud: 'digitalocean',
    // The deployer's API token, as `pulumi config set --secret digitalocean:token` keeps it.
    providerConfig: { 'digitalocean:token': PUSH_TOKEN },
    computed(type, name, inputs) {
      const id = `${name}-id`;
      switch (type) {
        case T.cluster:
          return {
            id,
            outputs: {
              name: `${name}-a1b2c3d`,
              host: 'scim-bridge-pg-do-user-1-0.b.db.ondigitalocean.com',
              privateHost: PRIVATE_HOST,
              port: 25060,
              user: 'doadmin',
              password: ADMIN_PASSWORD,
              database: 'defaultdb',
              uri: `postgresql://doadmin:x@host:25060/defaultdb?sslmode=require`,
              privateNetworkUuid: inputs.privateNetworkUuid ?? DEFAULT_VPC,
            },
          };
        case T.user:
          return { id, outputs: { password: 'AVNS_userpassword', role: 'normal' } };
        case T.registry:
          return { id, outputs: { name: 'scim-bridge-registry-9f8e7d6', serverUrl: 'registry.digitalocean.com/scim-bridge-registry-9f8e7d6' } };
        case T.credentials: {
          const auth = Buffer.from(`${PUSH_USER}:${PUSH_TOKEN}`).toString('base64');
          return { id, outputs: { dockerCredentials: JSON.stringify({ auths: { 'registry.digitalocean.com': { auth } } }) } };
        }
        case T.app:
          return { id, outputs: { defaultIngress: DEFAULT_INGRESS, liveUrl: 'https://scim.example.com', spec: returnedSpec(inputs.spec) } };
        case T.image:
          return { id, outputs: { digest: DIGEST, ref: `${inputs.tags[0]}@${DIGEST}` } };
        case T.stackReference:
          return { id, outputs: { outputs: previousOutputs, secretOutputNames: Object.keys(previousOutputs) } };
        default:
          return { id, outputs: {} };
      }
    },
    answer(token) {
      throw new Error(`unexpected invoke ${token}`);
    },
  };
}

/** Runs `pulumi up -s digitalocean` against the mocks with these `scim-bridge:` keys. */
export function runDigitalOceanStack(config: Record<string, string>, options: DigitalOceanRunOptions = {}): Promise<Run> {
  return runStack(digitalOceanMocks(options.previousOutputs), { config, secretKeys: options.secretKeys ?? ['scimSession'] });
}

/** The config error a run fails with (the test fails when the stack accepts the configuration). */
export async function configFailure(config: Record<string, string>, options?: DigitalOceanRunOptions): Promise<string> {
  try {
    await runDigitalOceanStack(config, options);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the stack accepted this configuration');
}

export const appOf = (run: Run) => run.one(T.app);
export const specOf = (run: Run) => appOf(run).inputs.spec;
export const serviceOf = (run: Run) => specOf(run).services[0];
export const jobOf = (run: Run) => specOf(run).jobs[0];
export const envOf = (component: any, key: string) => component.envs.find((e: { key: string }) => e.key === key);
