/**
 * An offline `pulumi preview` of one stack, for reviewers without cloud credentials or the Pulumi CLI: the stack's
 * configuration is read the way the CLI reads it (Pulumi.yaml's declarations and defaults, then Pulumi.<stack>.yaml,
 * both as strict YAML), the program named by Pulumi.yaml runs under `pulumi.runtime.setMocks` in preview mode, and
 * what it would create is printed as a table.
 *
 * The mocks are generic (no list of resource types): a resource's state is its inputs, and everything a cloud
 * computes (ids, addresses, the answers of data sources) is unknown, as in a real preview before the first deploy,
 * so code that waits on those values does not run. What is checked: the program runs without an error, every
 * resource and its options (protect, retainOnDelete, deletedWith) are listed, and no secret the stack holds reaches
 * a resource input unmarked (it would land in plain state).
 *
 *   npx tsx scripts/pulumi-preview.ts STACK [--json] [--root DIR] [--set KEY=VALUE]...
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';

/** A mistake in the project or stack files, worded like the CLI's. */
export class StackFileError extends Error {}

export interface ProjectFile {
  readonly name: string;
  readonly main: string;
  /** Namespaced key → its declaration. */
  readonly declarations: Record<string, { type?: string; default?: unknown; value?: unknown; secret?: boolean }>;
}

export interface StackConfig {
  /** Namespaced key → the string the program reads (structured values as JSON, as the CLI passes them). */
  readonly values: Record<string, string>;
  readonly secretKeys: string[];
  /** Keys filled with a placeholder here (an encrypted value, or a secret the stack file leaves out). */
  readonly placeholders: string[];
  readonly notes: string[];
}

/**
 * Secrets a real stack holds encrypted (`pulumi config set --secret`) that the example stack files leave out.
 * Offline they get a placeholder, so the program runs as it would with them set.
 */
export const OFFLINE_SECRETS: Record<string, string> = {
  'scim-bridge:scimSession': '{"version":1,"verifiers":[{"id":"preview","salt":"cHJldmlldw","hash":"cHJldmlldy1vbmx5LW5vdC1hLXJlYWwtdmVyaWZpZXI"}]}',
};
const PLACEHOLDER = (key: string) => `offline-preview-placeholder-for-${key}`;
/** The value rpc.ts deserializes as unknown in a preview. */
const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
const SIG_KEY = '4dabf18193072939515e22adb298388d';

function readStrict(path: string): any {
  if (!existsSync(path)) throw new StackFileError(`${path} does not exist`);
  const doc = parseDocument(readFileSync(path, 'utf8'), { strict: true, uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length) throw new StackFileError(`${path} is not valid YAML: ${problems[0].message.split('\n')[0]}`);
  const value = doc.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new StackFileError(`${path} must be a YAML mapping`);
  return value;
}

const namespaced = (project: string, key: string) => (key.includes(':') ? key : `${project}:${key}`);

export function loadProject(root: string): ProjectFile {
  const path = join(root, 'Pulumi.yaml');
  const doc = readStrict(path);
  if (typeof doc.name !== 'string' || !doc.name) throw new StackFileError(`${path}: name is required`);
  const runtime = typeof doc.runtime === 'string' ? doc.runtime : doc.runtime?.name;
  if (runtime !== 'nodejs') throw new StackFileError(`${path}: runtime must be nodejs here (got ${JSON.stringify(runtime)})`);
  const declarations: ProjectFile['declarations'] = {};
  for (const [key, decl] of Object.entries<any>(doc.config ?? {})) {
    // The short form `key: value` is a default; the long form has type/description/default/value/secret.
    declarations[namespaced(doc.name, key)] = decl !== null && typeof decl === 'object' && !Array.isArray(decl) ? decl : { default: decl };
  }
  return { name: doc.name, main: typeof doc.main === 'string' ? doc.main : '.', declarations };
}

function asConfigString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function checkType(key: string, type: string | undefined, value: unknown, stack: string): void {
  if (!type) return;
  const ok =
    type === 'string'
      ? typeof value === 'string'
      : type === 'integer'
        ? Number.isInteger(typeof value === 'string' ? Number(value) : value) && value !== ''
        : type === 'boolean'
          ? typeof value === 'boolean' || value === 'true' || value === 'false'
          : type === 'array'
            ? Array.isArray(value)
            : true;
  if (!ok) throw new StackFileError(`Stack '${stack}' with configuration key '${key}' must be of type '${type}'`);
}

/** The configuration `pulumi preview -s STACK` would hand the program. */
export function loadStackConfig(root: string, project: ProjectFile, stack: string, overrides: Record<string, string> = {}): StackConfig {
  const path = join(root, `Pulumi.${stack}.yaml`);
  const file = readStrict(path);
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  const notes: string[] = [];
  if (file.environment) notes.push('its Pulumi ESC environment is not resolved offline');
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries<any>(file.config ?? {})) raw[namespaced(project.name, key)] = value;
  for (const [key, decl] of Object.entries(project.declarations)) {
    if (!(key in raw) && decl.value !== undefined) raw[key] = decl.value;
    if (!(key in raw) && decl.default !== undefined) raw[key] = decl.default;
    if (!(key in raw) && !(key in OFFLINE_SECRETS) && !(key in overrides)) throw new StackFileError(`Stack '${stack}' is missing configuration value '${key}'`);
  }
  for (const [key, value] of Object.entries(raw)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'secure' in value) {
      // Encrypted with the stack's secrets provider: not readable without it.
      values[key] = OFFLINE_SECRETS[key] ?? PLACEHOLDER(key);
      secretKeys.push(key);
      placeholders.push(key);
      continue;
    }
    checkType(key, project.declarations[key]?.type, value, stack);
    values[key] = asConfigString(value);
    if (project.declarations[key]?.secret) secretKeys.push(key);
  }
  for (const [key, value] of Object.entries(OFFLINE_SECRETS)) {
    if (key in values || !key.startsWith(`${project.name}:`)) continue;
    values[key] = value;
    secretKeys.push(key);
    placeholders.push(key);
  }
  Object.assign(values, overrides);
  return { values, secretKeys, placeholders, notes };
}

export interface PreviewResource {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent: string;
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly deletedWith: string;
  readonly dependsOn: number;
  /** Inputs with secrets replaced by "[secret]". */
  readonly inputs: Record<string, any>;
}

export interface PreviewResult {
  readonly stack: string;
  readonly resources: PreviewResource[];
  /** Stack outputs: unknown ones as "(known after deploy)", secrets as "[secret]". */
  readonly outputs: Record<string, unknown>;
  readonly placeholders: string[];
  readonly notes: string[];
  /** Problems found: an unmarked secret in a resource input. */
  readonly problems: string[];
}

const isSecret = (v: any) => v !== null && typeof v === 'object' && v[SIG_KEY] === SECRET_SIG;

/** Walks an input: plain strings that contain a secret value are leaks; secret-wrapped ones are fine. */
function findLeaks(value: any, secrets: string[], path: string, found: string[]): void {
  if (isSecret(value)) return;
  if (typeof value === 'string') {
    for (const s of secrets) if (s.length >= 8 && value.includes(s)) found.push(path);
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) findLeaks(v, secrets, `${path}[${i}]`, found);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) findLeaks(v, secrets, path ? `${path}.${k}` : k, found);
  }
}

function redact(value: any): any {
  if (isSecret(value)) return '[secret]';
  if (value === UNKNOWN || (value && typeof value === 'object' && value.__pulumiUnknown === true)) return '(known after deploy)';
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
  return value;
}

/**
 * Runs the program once under mocks. Call it once per process: the Pulumi runtime is a process-wide singleton.
 */
export async function previewStack(root: string, stack: string, overrides: Record<string, string> = {}): Promise<PreviewResult> {
  const project = loadProject(root);
  const config = loadStackConfig(root, project, stack, overrides);
  const pulumi = require('@pulumi/pulumi') as typeof import('@pulumi/pulumi');
  const settings = require('@pulumi/pulumi/runtime/settings');
  const resources: PreviewResource[] = [];
  const problems: string[] = [];
  const secretValues = config.secretKeys.map((k) => config.values[k]);
  const options = new Map<string, { parent: string; protect: boolean; retainOnDelete: boolean; deletedWith: string; dependsOn: number; custom: boolean }>();

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const leaks: string[] = [];
        findLeaks(args.inputs, secretValues, '', leaks);
        for (const leak of leaks)
          problems.push(`${args.type} "${args.name}": input ${leak} holds a secret of the stack in plain text (it would be stored unencrypted in the state)`);
        // The engine's view before a first deploy: the inputs are known, what the cloud computes is not (id '').
        // The stack's reference to itself reads a stack that has no outputs yet.
        if (args.type === 'pulumi:pulumi:StackReference') return { id: '', state: { ...args.inputs, outputs: {}, secretOutputNames: [] } };
        return { id: '', state: args.inputs };
      },
      call() {
        // A data source's answer comes from the cloud (see invokeOutput below for the usual, Output form).
        return {};
      },
    },
    project.name,
    stack,
    true,
    // What the engine passes for a DIY backend (a Pulumi Cloud stack gets its organization's name).
    'organization',
  );
  // The mocks see no resource options; read them from each registration on its way to the mock monitor.
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: any) => {
    options.set(`${req.getType()}::${req.getName()}`, {
      parent: req.getParent(),
      protect: Boolean(req.getProtect?.()),
      retainOnDelete: Boolean(req.getRetainondelete?.()),
      deletedWith: req.getDeletedwith?.() ?? '',
      dependsOn: req.getDependenciesList().length,
      custom: req.getCustom(),
    });
    return register(req, (err: any, response: any) => {
      if (!err) {
        const o = options.get(`${req.getType()}::${req.getName()}`)!;
        const inputs = redact(require('@pulumi/pulumi/runtime/rpc').deserializeProperties(req.getObject(), true));
        resources.push({ type: req.getType(), name: req.getName(), ...o, inputs });
      }
      callback(err, response);
    });
  };
  pulumi.runtime.setAllConfig(config.values, config.secretKeys);
  // Data sources (getXOutput) answer from the cloud in a real preview; offline their whole answer is unknown, so
  // code that reads a field of it waits instead of seeing undefined. (The promise form still reaches call() above.)
  const runtime = pulumi.runtime as unknown as { invokeOutput: (...args: unknown[]) => unknown };
  const OutputClass = pulumi.Output as unknown as new (...args: unknown[]) => unknown;
  runtime.invokeOutput = () =>
    new OutputClass(new Set(), Promise.resolve(undefined), Promise.resolve(false), Promise.resolve(false), Promise.resolve(new Set()));

  const main = resolve(root, project.main);
  let exported: Record<string, unknown> = {};
  const failure = await new Promise<Error | undefined>((done) => {
    const onError = (error: unknown) => done(error instanceof Error ? error : new Error(String(error)));
    process.once('unhandledRejection', onError);
    try {
      const mod = require(main);
      exported = (mod && typeof mod === 'object' ? mod : {}) as Record<string, unknown>;
    } catch (error) {
      process.off('unhandledRejection', onError);
      done(error as Error);
      return;
    }
    (async () => {
      // A program may export a promise of its outputs (the Pulumi stacks first read their last outputs).
      const awaited = (await exported) as Record<string, unknown> | undefined;
      const outputs: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(awaited && typeof awaited === 'object' ? awaited : {})) outputs[key] = await settle(pulumi, value);
      await settings.waitForRPCs();
      exported = outputs;
    })().then(
      () => {
        process.off('unhandledRejection', onError);
        done(undefined);
      },
      (error) => {
        process.off('unhandledRejection', onError);
        done(error as Error);
      },
    );
  });
  if (failure) throw failure;
  return { stack, resources, outputs: exported, placeholders: config.placeholders, notes: config.notes, problems };
}

/** An output's value for the report: "(known after deploy)" while unknown, "[secret]" for a secret. */
async function settle(pulumi: typeof import('@pulumi/pulumi'), value: unknown): Promise<unknown> {
  if (!pulumi.Output.isInstance(value)) return value;
  const output = value as any;
  const [known, secret] = await Promise.all([output.isKnown, output.isSecret]);
  if (!known) return '(known after deploy)';
  if (secret) return '[secret]';
  return new Promise((done) => output.apply((v: unknown) => done(v)));
}

/** A short table: one line per cloud resource (components only as the parent column). */
export function formatPreview(result: PreviewResult): string[] {
  const custom = result.resources.filter((r) => r.custom);
  const nameOf = (urn: string) => urn.split('::').pop() ?? '';
  const rows = custom.map((r) => {
    const flags = [r.protect && 'protect', r.retainOnDelete && 'retainOnDelete', r.deletedWith && `deletedWith ${nameOf(r.deletedWith)}`]
      .filter(Boolean)
      .join(', ');
    return [r.type, r.name, flags];
  });
  const width = [Math.max(4, ...rows.map((r) => r[0].length)), Math.max(4, ...rows.map((r) => r[1].length))];
  const lines = [
    `stack ${result.stack}: ${custom.length} resources would be created (${result.resources.length - custom.length} components)`,
    `  ${'TYPE'.padEnd(width[0])}  ${'NAME'.padEnd(width[1])}  OPTIONS`,
    ...rows.map(([type, name, flags]) => `  ${type.padEnd(width[0])}  ${name.padEnd(width[1])}  ${flags}`.trimEnd()),
  ];
  const outputs = Object.entries(result.outputs).filter(([key]) => key !== 'nextSteps');
  if (outputs.length) lines.push(`  outputs: ${outputs.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`);
  if (result.placeholders.length) lines.push(`  placeholder secrets (not readable offline): ${result.placeholders.join(', ')}`);
  for (const note of result.notes) lines.push(`  note: ${note}`);
  for (const problem of result.problems) lines.push(`  PROBLEM: ${problem}`);
  return lines;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const overrides: Record<string, string> = {};
  let root = resolve(__dirname, '..');
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--set') {
      const [key, ...rest] = (args[++i] ?? '').split('=');
      overrides[key] = rest.join('=');
    } else if (args[i] === '--root') {
      root = resolve(args[++i] ?? '.');
    } else if (!args[i].startsWith('--')) {
      positional.push(args[i]);
    }
  }
  const stack = positional[0];
  if (!stack) {
    process.stderr.write('usage: tsx scripts/pulumi-preview.ts STACK [--json] [--root DIR] [--set KEY=VALUE]...\n');
    process.exit(2);
  }
  previewStack(root, stack, overrides).then(
    (result) => {
      if (args.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`${formatPreview(result).join('\n')}\n`);
      process.exit(result.problems.length ? 1 : 0);
    },
    (error: Error) => {
      process.stderr.write(`stack ${stack}: ${error instanceof StackFileError ? error.message : (error.stack ?? error.message)}\n`);
      process.exit(1);
    },
  );
}
