/**
 * Runs the DigitalOcean stack program against Pulumi mocks (no CLI, no plugins, no network) and records what it
 * registers: each resource's inputs (secret markers kept), the options the engine received and the outputs.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
import { SESSION, isSecretInput, reveal, redact } from '../support/pulumi-inputs';

export { SESSION, isSecretInput, reveal, redact };

export const DEFAULT_INGRESS = 'https://scim-bridge-x7k2p.ondigitalocean.app';
export const DEFAULT_HOST = 'scim-bridge-x7k2p.ondigitalocean.app';
export const DIGEST = `sha256:${'ab'.repeat(32)}`;
export const PUSH_USER = 'ops@example.com';
export const PUSH_TOKEN = 'dop_v1_pushtoken';
export const IMAGE_CREDENTIALS = 'octocat:ghp_imagepulltoken';

/** The minimum a working stack needs (scimSession is added as a secret unless overridden). */
export const BASE_CONFIG: Record<string, string> = {
  region: 'fra1',
  domain: 'scim.example.com',
  alertEmail: 'ops@example.com',
  scimSession: SESSION,
};

export interface Recorded {
  type: string;
  name: string;
  id: string;
  urn: string;
  /** Inputs as serialized for the engine: secret markers exactly where the program put them. */
  wire: Record<string, any>;
  /** Inputs as the mocks deserialize them (secretness lifted to the top-level property). */
  raw: Record<string, any>;
  /** Inputs with secret markers removed. */
  inputs: Record<string, any>;
  ignoreChanges: string[];
  dependsOn: string[];
}

export interface Run {
  resources: Recorded[];
  outputs: Record<string, any>;
  /** Stack outputs as Pulumi outputs, to check which are secret. */
  rawOutputs: Record<string, any>;
  pulumi: any;
  ofType(type: string): Recorded[];
  one(type: string): Recorded;
}

function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  const v = reveal(inputs);
  switch (type) {
    case 'digitalocean:index/databaseCluster:DatabaseCluster':
      return { name: `${name}-a1b2c3d`, host: 'scim-pg-do-user-1.db.ondigitalocean.com', port: 25060, uri: 'postgresql://doadmin:pw@host:25060/defaultdb?sslmode=require' };
    case 'digitalocean:index/containerRegistry:ContainerRegistry':
      return { name: 'scim-bridge-registry-9f8e7d6', serverUrl: 'registry.digitalocean.com/scim-bridge-registry-9f8e7d6' };
    case 'digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials': {
      const auth = Buffer.from(`${PUSH_USER}:${PUSH_TOKEN}`).toString('base64');
      return { dockerCredentials: JSON.stringify({ auths: { 'registry.digitalocean.com': { auth } } }) };
    }
    case 'digitalocean:index/app:App':
      return { defaultIngress: DEFAULT_INGRESS, liveUrl: 'https://scim.example.com' };
    case 'docker-build:index:Image':
      return { digest: DIGEST, ref: `${v.tags[0]}@${DIGEST}` };
    default:
      return {};
  }
}

function resolve(pulumi: any, value: any): Promise<any> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value);
  return new Promise((done) => value.apply((v: any) => done(v)));
}

/**
 * Sets the stack configuration (keys without the `scim-bridge:` prefix), loads a fresh copy of the program and runs
 * deploy(). Throws what deploy() throws (configuration errors).
 */
export async function runDigitalOceanStack(config: Record<string, string>, secretKeys: string[] = ['scimSession']): Promise<Run> {
  const resources: Recorded[] = [];
  const options = new Map<string, { ignoreChanges: string[]; dependsOn: string[]; wire: Record<string, any>; urn?: string }>();
  let pulumi: any;
  let settings: any;
  let rawOutputs: Record<string, any> = {};

  jest.isolateModules(() => {
    pulumi = require('@pulumi/pulumi');
    settings = require('@pulumi/pulumi/runtime/settings');
    pulumi.runtime.setMocks(
      {
        newResource(args: any) {
          const id = `${args.name}-id`;
          resources.push({
            type: args.type,
            name: args.name,
            id,
            urn: '',
            wire: {},
            raw: args.inputs,
            inputs: reveal(args.inputs),
            ignoreChanges: [],
            dependsOn: [],
          });
          return { id, state: { ...args.inputs, ...mockState(args.type, args.name, args.inputs) } };
        },
        call(args: any) {
          throw new Error(`unexpected invoke ${args.token}`);
        },
      },
      'scim-bridge',
      'digitalocean',
      false,
    );
    // The mocks API does not pass resource options on; read them from the registration request.
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
      const key = `${req.getType()}::${req.getName()}`;
      options.set(key, {
        ignoreChanges: req.getIgnorechangesList(),
        dependsOn: req.getDependenciesList(),
        wire: req.getObject()?.toJavaScript() ?? {},
      });
      return register(req, (err: any, response: any) => {
        if (response) options.get(key)!.urn = response.getUrn();
        callback(err, response);
      });
    };
    const prefixed = Object.fromEntries(Object.entries(config).map(([k, v]) => [`scim-bridge:${k}`, v]));
    pulumi.runtime.setAllConfig({ 'scim-bridge:cloud': 'digitalocean', ...prefixed }, secretKeys.map((k) => `scim-bridge:${k}`));
    rawOutputs = require('../../stacks/pulumi/digitalocean').deploy();
  });

  const outputs: Record<string, any> = {};
  for (const [key, value] of Object.entries(rawOutputs)) outputs[key] = await resolve(pulumi, value);
  await settings.waitForRPCs();
  for (const r of resources) {
    const o = options.get(`${r.type}::${r.name}`);
    r.ignoreChanges = o?.ignoreChanges ?? [];
    r.dependsOn = o?.dependsOn ?? [];
    r.wire = o?.wire ?? {};
    r.urn = o?.urn ?? '';
  }
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    outputs,
    rawOutputs,
    pulumi,
    ofType,
    one(type: string) {
      const found = ofType(type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0];
    },
  };
}

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
  component: 'scim-bridge:digitalocean:ScimBridgeDigitalOcean',
} as const;
