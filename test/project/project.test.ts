/**
 * Pulumi.yaml and every example stack file as the Pulumi CLI reads them, before any program runs: strict YAML 1.2
 * (a plain scalar holding ": " broke every command once), Pulumi's published project schema, config keys of the form
 * `namespace:name`, and every `scim-bridge:` key one the program reads, so a typo in an example fails here instead of
 * being silently ignored by `pulumi up`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { type Document, parseDocument } from 'yaml';
import { CLOUDS, CONFIG_NAMESPACE, SHARED_CONFIG_KEYS } from '../../stacks/pulumi/config';
import schema from './pulumi-project.schema.json';

const ROOT = join(__dirname, '..', '..');
const STACKS_DIR = join(ROOT, 'stacks', 'pulumi');

/** Parsed as strictly as YAML 1.2 allows; every error and every warning is a failure. */
function strictYaml(file: string, text = readFileSync(join(ROOT, file), 'utf8')): { doc: Document; value: Record<string, unknown> } {
  const doc = parseDocument(text, { version: '1.2', strict: true, uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => `${file}: ${e.message}`);
  if (problems.length) throw new Error(problems.join('\n'));
  return { doc, value: doc.toJS() as Record<string, unknown> };
}

const stackFiles = readdirSync(ROOT)
  .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
  .sort();

/**
 * The `scim-bridge:` keys a cloud's program reads: the shared ones (config.ts) and those its stack module names, as the
 * second argument of a config helper (`oneOf(cfg, 'frontDoor', ...)`) or of a `pulumi.Config` getter
 * (`cfg.get('x')`), plus its `CONFIG_KEYS` list when it exports one.
 */
function keysRead(cloud: string): Set<string> {
  const source = readFileSync(join(STACKS_DIR, `${cloud}.ts`), 'utf8');
  const named = [...source.matchAll(/\(\s*cfg\s*,\s*'([A-Za-z][\w]*)'/g), ...source.matchAll(/\bcfg\s*\.\s*(?:get|require)\w*\(\s*'([A-Za-z][\w]*)'/g)].map(
    (m) => m[1],
  );
  const declared: readonly string[] = (require(join(STACKS_DIR, cloud)) as { CONFIG_KEYS?: readonly string[] }).CONFIG_KEYS ?? [];
  return new Set([...SHARED_CONFIG_KEYS, ...named, ...declared]);
}

/** `scim-bridge:` keys in a stack file: set ones and the commented examples a user uncomments (`# scim-bridge:key: value`). */
function stackKeys(file: string, config: Record<string, unknown>): { set: string[]; commented: string[] } {
  const ns = `${CONFIG_NAMESPACE}:`;
  const set = Object.keys(config)
    .filter((k) => k.startsWith(ns))
    .map((k) => k.slice(ns.length));
  const commented = [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^\s*#\s*scim-bridge:([A-Za-z][\w]*)\s*:/gm)].map((m) => m[1]);
  return { set, commented };
}

describe('Pulumi.yaml', () => {
  const { value: project } = strictYaml('Pulumi.yaml');

  test("validates against Pulumi's published project schema (sdk/go/common/workspace/project.json)", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    expect(validate(project) ? [] : validate.errors).toEqual([]);
  });

  test('the schema is not a formality: it refuses what the CLI refuses', () => {
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate({ name: 'scim-bridge' })).toBe(false); // no runtime
    expect(validate({ ...project, runtime: { name: 'nodejs', typo: true } })).toBe(false);
    expect(validate({ ...project, config: { 'scim-bridge:cloud': { type: 'text' } } })).toBe(false);
  });

  test('the project name is the config namespace the program reads (project keys are namespaced by the project name)', () => {
    expect(project.name).toBe(CONFIG_NAMESPACE);
  });

  test('main is the Pulumi program and exists', () => {
    expect(project.main).toBe('stacks/pulumi/index.ts');
    expect(existsSync(join(ROOT, String(project.main)))).toBe(true);
  });

  // "Schemas are only valid for project property keys" (pulumi.com/docs/iac/concepts/projects/project-file/#config-options).
  test('every declared config type is for a key of this project', () => {
    for (const key of Object.keys((project.config ?? {}) as object)) expect(key.startsWith(`${CONFIG_NAMESPACE}:`) || !key.includes(':')).toBe(true);
  });
});

describe.each(stackFiles)('%s', (file) => {
  const cloud = /^Pulumi\.([^.]+)\.yaml$/.exec(file)![1];
  const { value } = strictYaml(file);
  const config = (value.config ?? {}) as Record<string, unknown>;

  test('parses as strict YAML 1.2 with only stack-file sections', () => {
    expect(Object.keys(value).filter((k) => !['config', 'secretsprovider', 'encryptedkey', 'encryptionsalt', 'environment'].includes(k))).toEqual([]);
  });

  test('names a cloud the program deploys, the one in its file name', () => {
    expect(CLOUDS).toContain(cloud);
    expect(config[`${CONFIG_NAMESPACE}:cloud`]).toBe(cloud);
  });

  // pulumi config keys are `<namespace>:<name>`; a bare key is refused by the CLI.
  test('every config key is namespace:name, with a value (no nulls)', () => {
    for (const [key, v] of Object.entries(config)) {
      expect([key, /^[A-Za-z][\w-]*:[A-Za-z][\w.-]*$/.test(key)]).toEqual([key, true]);
      expect([key, v === null || v === undefined]).toEqual([key, false]);
    }
  });

  test('every scim-bridge: key, set or shown in a comment, is one the program reads', () => {
    const known = keysRead(cloud);
    const { set, commented } = stackKeys(file, config);
    expect(set.length).toBeGreaterThan(0);
    expect([...set, ...commented].filter((k) => !known.has(k))).toEqual([]);
  });
});

test('the YAML check catches what broke every pulumi command once, and a key given twice', () => {
  expect(() => strictYaml('Pulumi.yaml', 'name: x\ndescription: Which cloud this stack deploys to: gcp\n')).toThrow(/Pulumi.yaml/);
  expect(() => strictYaml('Pulumi.gcp.yaml', 'config:\n  scim-bridge:cloud: gcp\n  scim-bridge:cloud: azure\n')).toThrow(/unique|duplicate/i);
});

test('the key check catches a typo (it is not a formality)', () => {
  expect(keysRead('gcp').has('minReplicas')).toBe(true);
  expect(keysRead('gcp').has('frontDoor')).toBe(true);
  expect(keysRead('gcp').has('minReplica')).toBe(false);
  expect(keysRead('gcp').has('databaseTier')).toBe(false);
});
