/**
 * Runs a Pulumi program against the SDK's mocks (no CLI, no plugins, no network) and records what a real
 * `pulumi up` would be asked to do: every resource's inputs (secret markers kept), what it waits for, and its
 * resource options. Mocks never see options (`protect`, `retainOnDelete`, `deletedWith`, `ignoreChanges`...),
 * yet those decide what a real destroy or replacement does, so the harness reads them from each registration
 * request on its way to the mock monitor. One harness for every Pulumi cloud: a cloud supplies only its mocks.
 */
import { SESSION, isSecretInput, redact, reveal } from './pulumi-inputs';

export { SESSION, isSecretInput, redact, reveal };

/** The options the engine acts on at destroy, replace and update time. */
export interface RecordedOptions {
  protect: boolean;
  retainOnDelete: boolean;
  /** URN of the resource whose deletion also deletes this one ('' when none). */
  deletedWith: string;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  deleteBeforeReplace: boolean;
  additionalSecretOutputs: string[];
  /** URN of the parent (component) resource. */
  parent: string;
  /** Provider reference ('' for the default provider). */
  provider: string;
  /** Former identities the engine maps onto this resource (so a move does not replace it): URNs or parent/name specs. */
  aliases: { urn?: string; name?: string; type?: string; parentUrn?: string; noParent?: boolean }[];
}

export interface Recorded {
  type: string;
  name: string;
  /** True for a cloud resource, false for a component. */
  custom: boolean;
  id: string;
  urn: string;
  /** Inputs as the engine received them (secrets still marked). */
  raw: Record<string, any>;
  /** Inputs with secret markers removed. */
  inputs: Record<string, any>;
  /**
   * Inputs exactly as serialized for the engine: secret markers where the program put them (the mocks lift secrecy
   * to the top-level property in `raw`). Read this to tell which nested values plain state could show.
   */
  wire: Record<string, any>;
  /** State the mock returned (inputs plus computed outputs). */
  state: Record<string, any>;
  /** URNs this resource waits for (explicit dependsOn and input dependencies). */
  dependsOn: string[];
  options: RecordedOptions;
}

export interface Run {
  resources: Recorded[];
  outputs: Record<string, any>;
  /** Stack outputs that are Pulumi secrets (encrypted in state, `[secret]` in `pulumi stack output`). */
  secretOutputs: string[];
  invokes: { token: string; inputs: any }[];
  /** Every configuration key the program read, with its namespace (`scim-bridge:domain`), in first-read order. */
  configRead: string[];
  ofType(type: string): Recorded[];
  one(type: string, name?: string): Recorded;
  byUrn(urn: string): Recorded | undefined;
  /** True when `from` waits for `to` (directly). */
  waitsFor(from: Recorded, to: Recorded): boolean;
  /** The resource `r` is deleted with, if any. */
  deletedWith(r: Recorded): Recorded | undefined;
  /** Custom resources whose deletion a `pulumi destroy` would refuse (protect without an opt-out). */
  protectedResources(): Recorded[];
}

/** What a cloud supplies: its computed outputs (ids, addresses, generated values) and its data-source answers. */
export interface CloudMocks {
  /** The stack name and `scim-bridge:cloud` value, e.g. `gcp`. */
  readonly cloud: string;
  /** Provider configuration every run starts from, e.g. `{ 'gcp:project': 'acme' }`. */
  readonly providerConfig?: Record<string, string>;
  computed(type: string, name: string, inputs: Record<string, any>): { id: string; outputs: Record<string, any> };
  answer(token: string, inputs: any): Record<string, any>;
}

export interface StackSettings {
  /** `scim-bridge:` keys (without the prefix). */
  readonly config: Record<string, string>;
  /** `scim-bridge:` keys stored as secrets. @default ['scimSession'] */
  readonly secretKeys?: readonly string[];
  /** Provider keys with their namespace (e.g. `gcp:region`); '' removes a default. */
  readonly provider?: Record<string, string>;
  /**
   * The stack's outputs from its last update, as its reference to itself reads them (the previous run of a day-two
   * test). @default none: a new stack, or what the cloud's mocks answer for `pulumi:pulumi:StackReference`
   */
  readonly previousOutputs?: Record<string, any>;
  /** Run as `pulumi preview` does (a dry run) rather than `pulumi up`. @default false */
  readonly preview?: boolean;
}

const STACK_REFERENCE = 'pulumi:pulumi:StackReference';

function resolveOutput(pulumi: any, value: any): Promise<any> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value);
  return new Promise((resolve) => value.apply((v: any) => resolve(v)));
}

function flattenPropertyDependencies(req: any): string[] {
  const map = req.getPropertydependenciesMap?.();
  if (!map) return [];
  const urns: string[] = [];
  map.forEach((deps: any) => {
    urns.push(...deps.getUrnsList());
  });
  return urns;
}

function optionsOf(req: any): RecordedOptions {
  return {
    protect: Boolean(req.getProtect()),
    retainOnDelete: Boolean(req.getRetainondelete()),
    deletedWith: req.getDeletedwith() ?? '',
    ignoreChanges: req.getIgnorechangesList() ?? [],
    replaceOnChanges: req.getReplaceonchangesList() ?? [],
    deleteBeforeReplace: Boolean(req.getDeletebeforereplace()),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList() ?? [],
    parent: req.getParent() ?? '',
    provider: req.getProvider() ?? '',
    aliases: (req.getAliasesList?.() ?? []).map((a: any) => {
      const spec = a.getSpec?.();
      if (!spec) return { urn: a.getUrn() };
      return {
        name: spec.getName() || undefined,
        type: spec.getType() || undefined,
        parentUrn: spec.getParenturn() || undefined,
        noParent: spec.getNoparent() || undefined,
      };
    }),
  };
}

const NO_OPTIONS: RecordedOptions = {
  protect: false,
  retainOnDelete: false,
  deletedWith: '',
  ignoreChanges: [],
  replaceOnChanges: [],
  deleteBeforeReplace: false,
  additionalSecretOutputs: [],
  parent: '',
  provider: '',
  aliases: [],
};

/**
 * Sets the stack configuration, loads a fresh copy of the program's modules and runs `program` (it must `require`
 * what it uses, so it gets this run's modules). Throws what the program throws (configuration errors).
 */
export async function runPulumiProgram(
  mocks: CloudMocks,
  settings: StackSettings,
  program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<Run> {
  const resources: Recorded[] = [];
  const invokes: { token: string; inputs: any }[] = [];
  const registrations = new Map<string, { dependsOn: string[]; options: RecordedOptions; wire: Record<string, any> }>();
  const configRead: string[] = [];
  let pulumi: any;
  let runtimeSettings: any;
  let outputs: Record<string, any> | Promise<Record<string, any>> = {};
  const key = (type: string, name: string) => `${type}::${name}`;

  jest.isolateModules(() => {
    pulumi = require('@pulumi/pulumi');
    runtimeSettings = require('@pulumi/pulumi/runtime/settings');
    // Every typed read (get, getSecret, require, getObject...) goes through getImpl: note the keys a program reads,
    // so a test can show that every key a stack file sets is one the program uses.
    const getImpl = pulumi.Config.prototype.getImpl;
    pulumi.Config.prototype.getImpl = function (this: any, key: string, ...rest: any[]) {
      const full = `${this.name}:${key}`;
      if (!configRead.includes(full)) configRead.push(full);
      return getImpl.call(this, key, ...rest);
    };
    pulumi.runtime.setMocks(
      {
        newResource(args: any) {
          const inputs = reveal(args.inputs);
          const previous = settings.previousOutputs;
          const { id, outputs: extra } =
            args.type === STACK_REFERENCE && previous !== undefined
              ? { id: args.name, outputs: { outputs: previous, secretOutputNames: Object.keys(previous) } }
              : args.custom
                ? mocks.computed(args.type, args.name, inputs)
                : { id: '', outputs: {} };
          // A stack reference the cloud's mocks do not answer reads a new stack: no outputs yet.
          if (args.type === STACK_REFERENCE && extra.outputs === undefined) Object.assign(extra, { outputs: {}, secretOutputNames: [] });
          const state = { ...args.inputs, ...extra };
          resources.push({
            type: args.type,
            name: args.name,
            custom: Boolean(args.custom),
            id,
            urn: '',
            raw: args.inputs,
            inputs,
            wire: args.inputs,
            state,
            dependsOn: [],
            options: NO_OPTIONS,
          });
          return { id: args.custom ? id : undefined, state };
        },
        call(args: any) {
          invokes.push({ token: args.token, inputs: args.inputs });
          return mocks.answer(args.token, args.inputs);
        },
      },
      'scim-bridge',
      mocks.cloud,
      settings.preview ?? false,
      // What the engine passes when the backend is a DIY one (a Pulumi Cloud stack gets its organization's name).
      'organization',
    );
    // Options and dependencies travel in the registration request; the mocks API drops both, so read them here.
    const monitor = runtimeSettings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
      registrations.set(key(req.getType(), req.getName()), {
        dependsOn: [...req.getDependenciesList(), ...flattenPropertyDependencies(req)],
        options: optionsOf(req),
        wire: req.getObject()?.toJavaScript() ?? {},
      });
      return register(req, (err: any, response: any) => {
        const match = resources.find((r) => r.type === req.getType() && r.name === req.getName());
        if (match && response) match.urn = response.getUrn();
        callback(err, response);
      });
    };
    const values: Record<string, string> = { ...mocks.providerConfig, 'scim-bridge:cloud': mocks.cloud };
    for (const [k, v] of Object.entries(settings.provider ?? {})) {
      if (v === '') delete values[k];
      else values[k] = v;
    }
    for (const [k, v] of Object.entries(settings.config)) values[`scim-bridge:${k}`] = v;
    pulumi.runtime.setAllConfig(
      values,
      (settings.secretKeys ?? ['scimSession']).map((k) => `scim-bridge:${k}`),
    );
    outputs = program();
  });

  let exported: Record<string, any>;
  try {
    exported = await outputs;
  } catch (error) {
    // A program that fails after registering something (a stack reference, a component) still has requests in
    // flight: let them finish against this run's mocks, so they do not reach the next run's.
    await runtimeSettings.waitForRPCs().catch(() => undefined);
    throw error;
  }
  const resolved: Record<string, any> = {};
  const secretOutputs: string[] = [];
  for (const [name, value] of Object.entries(exported ?? {})) {
    resolved[name] = await resolveOutput(pulumi, value);
    if (pulumi.Output.isInstance(value) && (await pulumi.isSecret(value))) secretOutputs.push(name);
  }
  await runtimeSettings.waitForRPCs();
  for (const r of resources) {
    const registration = registrations.get(key(r.type, r.name));
    if (registration) Object.assign(r, registration);
  }

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const byUrn = (urn: string) => (urn ? resources.find((r) => r.urn === urn) : undefined);
  return {
    resources,
    outputs: resolved,
    secretOutputs,
    invokes,
    configRead,
    ofType,
    byUrn,
    one(type: string, name?: string) {
      const found = ofType(type).filter((r) => name === undefined || r.name === name);
      if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}`);
      return found[0];
    },
    waitsFor: (from, to) => to.urn !== '' && from.dependsOn.includes(to.urn),
    deletedWith: (r) => byUrn(r.options.deletedWith),
    protectedResources: () => resources.filter((r) => r.custom && r.options.protect),
  };
}

/** Runs the stack program (`stacks/pulumi/index.ts`) for a cloud, as `pulumi up -s <cloud>` would. */
export function runStack(mocks: CloudMocks, settings: StackSettings): Promise<Run> {
  return runPulumiProgram(mocks, settings, () => require('../../stacks/pulumi/index'));
}
