/**
 * Pulumi.digitalocean.yaml as the Pulumi CLI reads it: strict YAML 1.2 (a `": "` in a plain scalar, a duplicate key
 * or a tab breaks every `pulumi` command), its config handed to the program the way the engine hands it (scalars as
 * strings, maps as JSON), and every `scim-bridge:` key in it, written or commented out, one the program really reads
 * and accepts. The example stack must deploy as it stands (plus the secret it says to set).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { runPulumiProgram } from '../support/pulumi-harness';
import { SESSION, T, digitalOceanMocks } from './mocks';

const FILE = path.resolve(__dirname, '../../Pulumi.digitalocean.yaml');
const text = readFileSync(FILE, 'utf8');
const NS = 'scim-bridge:';

function parseStrict(source: string): Record<string, unknown> {
  const doc = parseDocument(source, { strict: true, uniqueKeys: true, version: '1.2', prettyErrors: true });
  if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join('\n'));
  return doc.toJS() as Record<string, unknown>;
}

/** Config as the engine passes it to a program: strings, with structured values as JSON. */
function asProgramConfig(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(NS)) continue;
    out[key.slice(NS.length)] = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  }
  return out;
}

/** Runs the stack with this config and records every `scim-bridge:` key the program reads. */
async function runRecordingReads(config: Record<string, string>) {
  const read = new Set<string>();
  const run = await runPulumiProgram(digitalOceanMocks(), { config: { ...config, scimSession: SESSION }, secretKeys: ['scimSession'] }, () => {
    const runtimeConfig = require('@pulumi/pulumi/runtime/config');
    const original = runtimeConfig.getConfig;
    runtimeConfig.getConfig = (key: string) => {
      if (key.startsWith(NS)) read.add(key.slice(NS.length));
      return original(key);
    };
    return require('../../stacks/pulumi/index');
  });
  return { run, read };
}

const parsed = parseStrict(text);
const config = parsed.config as Record<string, unknown>;
/** `# scim-bridge:key: value` lines: examples a user uncomments. */
const commented = [...text.matchAll(/^\s*#\s*(scim-bridge:[A-Za-z.]+):\s*(.+)$/gm)].map((m) => ({ key: m[1], line: m[0] }));

test('parses as strict YAML 1.2 with a config map and nothing else', () => {
  expect(Object.keys(parsed)).toEqual(['config']);
  expect(config[`${NS}cloud`]).toBe('digitalocean');
  for (const key of Object.keys(config)) expect(key.startsWith(NS)).toBe(true);
});

test('the strict parser is the one that catches the trap that broke Pulumi.yaml', () => {
  expect(() => parseStrict('config:\n  scim-bridge:note: Which cloud: digitalocean\n')).toThrow();
  expect(() => parseStrict('config:\n  scim-bridge:region: fra1\n  scim-bridge:region: ams3\n')).toThrow();
});

test('the example deploys as it stands, and every key it sets is read by the program', async () => {
  const { run, read } = await runRecordingReads(asProgramConfig(config));
  for (const key of Object.keys(asProgramConfig(config))) expect(read).toContain(key);
  expect(run.one(T.app).inputs.spec.region).toBe('fra');
  expect(run.outputs.instanceSize).toBe('apps-s-1vcpu-1gb');
});

test('it shows the optional keys, commented out', () => {
  expect(commented.map((c) => c.key)).toEqual(expect.arrayContaining([`${NS}dnsZone`, `${NS}maxReplicas`, `${NS}image`, `${NS}deletionProtection`]));
});

test.each(commented.map((c) => [c.key, c.line]))('uncommenting %s gives a stack the program reads and accepts', async (key, line) => {
  const uncommented = text.replace(line, line.replace(/#\s*/, ''));
  const { read } = await runRecordingReads(asProgramConfig(parseStrict(uncommented).config as Record<string, unknown>));
  expect(read).toContain(key.slice(NS.length));
});
