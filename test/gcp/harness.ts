/**
 * Runs the GCP stack program against Pulumi mocks (no CLI, no plugins, no network) and records what it registers:
 * every resource's inputs (secret markers kept), the resources each one waits for, and the invokes.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-require-imports */
import { SESSION, isSecretInput, reveal } from '../support/pulumi-inputs';

export { SESSION, isSecretInput, reveal };

export const PROJECT = 'acme-idp';
export const REGION = 'europe-west1';
export const DOMAIN = 'scim.example.com';
export const ZONE_DNS_NAME = 'example.com.';
export const SUFFIX = 'q7w2e9';
export const DB_PASSWORD = 'generated-db-password-0123456789abcdefghij';
export const ACCESS_TOKEN = 'ya29.deployer-access-token';
export const LB_IP = '34.117.20.30';
export const IMAGE_DIGEST = 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

export interface Recorded {
  type: string;
  name: string;
  id: string;
  urn: string;
  /** Inputs as the engine received them (secrets still marked). */
  raw: Record<string, any>;
  /** Inputs with secret markers removed. */
  inputs: Record<string, any>;
  /** State the mock returned (inputs plus computed outputs). */
  state: Record<string, any>;
  /** URNs this resource waits for (explicit dependsOn and input dependencies). */
  dependsOn: string[];
}

export interface Run {
  resources: Recorded[];
  outputs: Record<string, any>;
  invokes: { token: string; inputs: any }[];
  ofType(type: string): Recorded[];
  one(type: string, name?: string): Recorded;
  /** True when `from` waits for `to` (directly). */
  waitsFor(from: Recorded, to: Recorded): boolean;
}

export const T = {
  service: 'gcp:cloudrunv2/service:Service',
  invoker: 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember',
  account: 'gcp:serviceaccount/account:Account',
  secret: 'gcp:secretmanager/secret:Secret',
  secretVersion: 'gcp:secretmanager/secretVersion:SecretVersion',
  secretIam: 'gcp:secretmanager/secretIamMember:SecretIamMember',
  projectIam: 'gcp:projects/iAMMember:IAMMember',
  api: 'gcp:projects/service:Service',
  sqlInstance: 'gcp:sql/databaseInstance:DatabaseInstance',
  sqlDatabase: 'gcp:sql/database:Database',
  sqlUser: 'gcp:sql/user:User',
  neg: 'gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup',
  backend: 'gcp:compute/backendService:BackendService',
  urlMap: 'gcp:compute/uRLMap:URLMap',
  cert: 'gcp:compute/managedSslCertificate:ManagedSslCertificate',
  sslPolicy: 'gcp:compute/sSLPolicy:SSLPolicy',
  httpsProxy: 'gcp:compute/targetHttpsProxy:TargetHttpsProxy',
  httpProxy: 'gcp:compute/targetHttpProxy:TargetHttpProxy',
  address: 'gcp:compute/globalAddress:GlobalAddress',
  forwardingRule: 'gcp:compute/globalForwardingRule:GlobalForwardingRule',
  recordSet: 'gcp:dns/recordSet:RecordSet',
  domainMapping: 'gcp:cloudrun/domainMapping:DomainMapping',
  repository: 'gcp:artifactregistry/repository:Repository',
  image: 'docker-build:index:Image',
  randomString: 'random:index/randomString:RandomString',
  randomPassword: 'random:index/randomPassword:RandomPassword',
} as const;

function computed(type: string, name: string, v: Record<string, any>): { id: string; outputs: Record<string, any> } {
  switch (type) {
    case T.randomString:
      return { id: name, outputs: { result: SUFFIX } };
    case T.randomPassword:
      return { id: name, outputs: { result: DB_PASSWORD } };
    case T.account: {
      const email = `${v.accountId}@${v.project}.iam.gserviceaccount.com`;
      return { id: `projects/${v.project}/serviceAccounts/${email}`, outputs: { email, member: `serviceAccount:${email}` } };
    }
    case T.secret:
      return { id: `projects/${v.project}/secrets/${v.secretId}`, outputs: { name: `projects/123456789/secrets/${v.secretId}` } };
    case T.secretVersion:
      // Like the API: the data is not echoed back in this mock's computed outputs.
      return { id: `${v.secret}/versions/1`, outputs: { version: '1', name: `${v.secret}/versions/1` } };
    case T.sqlInstance:
      return { id: v.name, outputs: { connectionName: `${v.project}:${v.region}:${v.name}` } };
    case T.service:
      return { id: `projects/${v.project}/locations/${v.location}/services/${v.name}`, outputs: { uri: `https://${v.name}-abc123-ew.a.run.app` } };
    case T.repository:
      return {
        id: `projects/${v.project}/locations/${v.location}/repositories/${v.repositoryId}`,
        outputs: { registryUri: `${v.location}-docker.pkg.dev/${v.project}/${v.repositoryId}` },
      };
    case T.address:
      return { id: `global-address/${name}`, outputs: { address: LB_IP } };
    case T.domainMapping:
      return {
        id: `locations/${v.location}/namespaces/${v.project}/domainmappings/${v.name}`,
        outputs: { statuses: [{ resourceRecords: [{ name: 'scim', type: 'CNAME', rrdata: 'ghs.googlehosted.com.' }] }] },
      };
    case T.image:
      return { id: name, outputs: { ref: `${v.tags[0]}@${IMAGE_DIGEST}`, digest: IMAGE_DIGEST } };
    default:
      return { id: `${type.split(':').pop()}/${name}`, outputs: {} };
  }
}

function answer(token: string, inputs: any): Record<string, any> {
  switch (token) {
    case 'gcp:organizations/getClientConfig:getClientConfig':
      return { accessToken: ACCESS_TOKEN, project: PROJECT, region: REGION, zone: '', id: 'client', defaultLabels: {} };
    case 'gcp:dns/getManagedZone:getManagedZone':
      return { name: inputs.name, dnsName: ZONE_DNS_NAME, id: `projects/${inputs.project}/managedZones/${inputs.name}`, nameServers: [], visibility: 'public' };
    default:
      throw new Error(`unexpected invoke ${token}`);
  }
}

function resolveOutput(pulumi: any, value: any): Promise<any> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value);
  return new Promise((resolve) => value.apply((v: any) => resolve(v)));
}

export interface StackSettings {
  /** `scim-bridge:` keys (without the prefix). */
  config: Record<string, string>;
  /** `scim-bridge:` keys stored as secrets. @default ['scimSession'] */
  secretKeys?: string[];
  /** `gcp:` provider keys (without the prefix). @default project and region */
  provider?: Record<string, string>;
}

/** Defaults every test starts from: the load balancer front door, a session secret, no zone. */
export const BASE: Record<string, string> = { domain: DOMAIN, scimSession: SESSION };

/**
 * Sets the stack configuration, loads a fresh copy of the program and runs deploy(). Throws what deploy() throws
 * (configuration errors).
 */
export function runGcpStack(settings: StackSettings): Promise<Run> {
  return runProgram(settings, () => require('../../stacks/pulumi/gcp').deploy());
}

/**
 * Runs any program (it must `require` what it uses, so it gets this run's fresh modules) under the same mocks and
 * configuration as the stack.
 */
export async function runProgram(settings: StackSettings, program: () => Record<string, unknown>): Promise<Run> {
  const resources: Recorded[] = [];
  const invokes: { token: string; inputs: any }[] = [];
  const dependencies = new Map<string, string[]>();
  let pulumi: any;
  let runtimeSettings: any;
  let outputs: Record<string, any> = {};

  jest.isolateModules(() => {
    pulumi = require('@pulumi/pulumi');
    runtimeSettings = require('@pulumi/pulumi/runtime/settings');
    pulumi.runtime.setMocks(
      {
        newResource(args: any) {
          const inputs = reveal(args.inputs);
          const { id, outputs: extra } = computed(args.type, args.name, inputs);
          const state = { ...args.inputs, ...extra };
          resources.push({ type: args.type, name: args.name, id, urn: '', raw: args.inputs, inputs, state, dependsOn: [] });
          return { id, state };
        },
        call(args: any) {
          invokes.push({ token: args.token, inputs: args.inputs });
          return answer(args.token, args.inputs);
        },
      },
      'scim-bridge',
      'gcp',
      false,
    );
    // The mocks API does not pass dependencies on; record them from the registrations.
    const monitor = runtimeSettings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
      const key = `${req.getType()}::${req.getName()}`;
      dependencies.set(key, [...req.getDependenciesList(), ...flattenPropertyDependencies(req)]);
      return register(req, (err: any, response: any) => {
        const match = resources.find((r) => r.type === req.getType() && r.name === req.getName());
        if (match && response) match.urn = response.getUrn();
        callback(err, response);
      });
    };
    const values: Record<string, string> = {
      'gcp:project': PROJECT,
      'gcp:region': REGION,
      'scim-bridge:cloud': 'gcp',
    };
    for (const [k, v] of Object.entries(settings.provider ?? {})) {
      if (v === '') delete values[`gcp:${k}`];
      else values[`gcp:${k}`] = v;
    }
    for (const [k, v] of Object.entries(settings.config)) values[`scim-bridge:${k}`] = v;
    pulumi.runtime.setAllConfig(values, (settings.secretKeys ?? ['scimSession']).map((k) => `scim-bridge:${k}`));
    outputs = program();
  });

  const resolved: Record<string, any> = {};
  for (const [key, value] of Object.entries(outputs)) resolved[key] = await resolveOutput(pulumi, value);
  await runtimeSettings.waitForRPCs();
  for (const r of resources) r.dependsOn = dependencies.get(`${r.type}::${r.name}`) ?? [];

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  return {
    resources,
    outputs: resolved,
    invokes,
    ofType,
    one(type: string, name?: string) {
      const found = ofType(type).filter((r) => name === undefined || r.name === name);
      if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}`);
      return found[0];
    },
    waitsFor: (from, to) => to.urn !== '' && from.dependsOn.includes(to.urn),
  };
}

function flattenPropertyDependencies(req: any): string[] {
  const map = req.getPropertydependenciesMap?.();
  if (!map) return [];
  const urns: string[] = [];
  map.forEach((deps: any) => urns.push(...deps.getUrnsList()));
  return urns;
}
