/**
 * How the cloud contract suite (contract.ts) reads each Pulumi cloud: its mocks, its smallest configuration, and where
 * the shared things sit in its resources (the database, the replicas, the bridge's environment, the secret store).
 * One adapter per cloud; the properties are written once, in contract.ts.
 */
import { type CloudMocks, type Recorded, type Run, SESSION, isSecretInput, reveal, runStack } from '../support/pulumi-harness';

export type PulumiCloudName = 'gcp' | 'digitalocean' | 'azure';

/** A value in the bridge's environment: plain text, or a reference to a secret (never its value). */
export type EnvValue = string | { readonly secret: true };

export interface RunOptions {
  readonly previousOutputs?: Record<string, any>;
  /** `scim-bridge:` keys stored as secrets. @default ['scimSession', 'webhookSecrets'] */
  readonly secretKeys?: readonly string[];
  /** A `pulumi preview` (dry run) instead of a `pulumi up`. */
  readonly preview?: boolean;
}

export interface CloudAdapter {
  readonly cloud: PulumiCloudName;
  /** The smallest configuration that deploys (scimsession included). */
  readonly base: Record<string, string>;
  /** The random suffix the mocks give, which every name that must be unique carries. */
  readonly suffix: string;
  /** The deploying identity's principal, where the program assigns it roles. */
  readonly deployer?: string;
  run(config: Record<string, string>, options?: RunOptions): Promise<Run>;
  /** The managed PostgreSQL server (the stateful resource every cloud protects). */
  database(run: Run): Recorded;
  /** Its PostgreSQL major version as given to the provider ('16'). */
  databaseVersion(run: Run): string;
  /** Its size as given to the provider. */
  databaseSize(run: Run): string;
  /** The replica bounds the platform autoscales within. */
  scaling(run: Run): { min: number; max: number };
  /** The bridge service's environment. */
  environment(run: Run): Record<string, EnvValue>;
  /** True when `value` sits, as a Pulumi secret, in the cloud's secret store (Secret Manager, an encrypted app secret, Key Vault). */
  inSecretStore(run: Run, value: string): boolean;
  /** Role ids (as docs/pipelines.roles.json names them) of every role assignment or IAM grant the program makes, and to whom. */
  roleGrants(run: Run): { role: string; principal: string }[];
}

const DEFAULT_SECRET_KEYS = ['scimSession', 'webhookSecrets'];

function runWith(mocks: CloudMocks, config: Record<string, string>, options: RunOptions = {}): Promise<Run> {
  return runStack(mocks, { config, secretKeys: options.secretKeys ?? DEFAULT_SECRET_KEYS, previousOutputs: options.previousOutputs, preview: options.preview });
}

const asSecretFlag = (secret: boolean, value: any): EnvValue => (secret ? { secret: true } : value);

export function gcpAdapter(): CloudAdapter {
  const m = require('../gcp/mocks');
  return {
    cloud: 'gcp',
    base: { ...m.BASE },
    suffix: m.SUFFIX,
    run: (config, options) => runWith(m.gcpMocks, config, options),
    database: (run) => run.one(m.T.sqlInstance),
    databaseVersion: (run) => String(run.one(m.T.sqlInstance).inputs.databaseVersion).replace(/^POSTGRES_/, ''),
    databaseSize: (run) => run.one(m.T.sqlInstance).inputs.settings.tier,
    scaling: (run) => {
      const s = run.one(m.T.service).inputs.template.scaling;
      return { min: s.minInstanceCount, max: s.maxInstanceCount };
    },
    environment: (run) => Object.fromEntries(m.container(run.one(m.T.service)).envs.map((e: any) => [e.name, asSecretFlag(Boolean(e.valueSource), e.value)])),
    inSecretStore: (run, value) => run.ofType(m.T.secretVersion).some((v) => isSecretInput(v.raw.secretData) && reveal(v.raw.secretData) === value),
    roleGrants: (run) => [...run.ofType(m.T.secretIam), ...run.ofType(m.T.projectIam)].map((g) => ({ role: g.inputs.role, principal: g.inputs.member })),
  };
}

export function digitalOceanAdapter(): CloudAdapter {
  const m = require('../digitalocean/mocks');
  const service = (run: Run) => run.one(m.T.app).inputs.spec.services[0];
  return {
    cloud: 'digitalocean',
    base: { ...m.BASE_CONFIG },
    // App Platform and DigitalOcean name nothing from a random suffix: the app name is the user's (appName).
    suffix: '',
    run: (config, options) => runWith(m.digitalOceanMocks(), config, options),
    database: (run) => run.one(m.T.cluster),
    databaseVersion: (run) => String(run.one(m.T.cluster).inputs.version),
    databaseSize: (run) => run.one(m.T.cluster).inputs.size,
    scaling: (run) => {
      const s = service(run);
      return s.autoscaling ? { min: s.autoscaling.minInstanceCount, max: s.autoscaling.maxInstanceCount } : { min: s.instanceCount, max: s.instanceCount };
    },
    environment: (run) => Object.fromEntries(service(run).envs.map((e: any) => [e.key, asSecretFlag(e.type === 'SECRET', e.value)])),
    inSecretStore: (run, value) => {
      const wire = run.one(m.T.app).wire.spec;
      const envs = (isSecretInput(wire) ? wire.value : wire).services.flatMap((s: any) => s.envs ?? []);
      return envs.some((e: any) => e.type === 'SECRET' && reveal(e.value) === value && (isSecretInput(e.value) || isSecretInput(wire)));
    },
    roleGrants: () => [],
  };
}

export function azureAdapter(): CloudAdapter {
  const m = require('../azure/mocks');
  const container = (run: Run) => run.one(m.T.app).inputs.template.containers[0];
  return {
    cloud: 'azure',
    base: { ...m.BASE },
    suffix: m.SUFFIX,
    deployer: m.DEPLOYER,
    async run(config, options = {}) {
      // The image build exchanges the deployer's Entra token for a registry token over fetch (at `pulumi up` only).
      const calls: string[] = [];
      const spy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (url: any) => {
        calls.push(String(url));
        return Response.json({ refresh_token: m.ACR_REFRESH_TOKEN });
      });
      try {
        return Object.assign(await runWith(m.AZURE_MOCKS, config, options), { fetchCalls: calls });
      } finally {
        spy.mockRestore();
      }
    },
    database: (run) => run.one(m.T.server),
    databaseVersion: (run) => String(run.one(m.T.server).inputs.version),
    databaseSize: (run) => run.one(m.T.server).inputs.sku.name,
    scaling: (run) => {
      const s = run.one(m.T.app).inputs.template.scale;
      return { min: s.minReplicas, max: s.maxReplicas };
    },
    environment: (run) => Object.fromEntries(container(run).env.map((e: any) => [e.name, asSecretFlag(e.secretRef !== undefined, e.value)])),
    inSecretStore: (run, value) =>
      run.ofType(m.T.secret).some((s) => (isSecretInput(s.raw.properties) || isSecretInput(s.raw.properties?.value)) && s.inputs.properties?.value === value),
    roleGrants: (run) => run.ofType(m.T.role).map((r) => ({ role: String(r.inputs.roleDefinitionId).split('/').pop()!, principal: r.inputs.principalId })),
  };
}

export { SESSION };
