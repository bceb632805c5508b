/**
 * docs/digitalocean.md states what each variant costs. Each row's settings are run through the stack, and the sizes
 * the program really chooses, priced from constructs/digitalocean/platform.ts, must give the row's total: a change of
 * default (or of price) that leaves the docs behind fails here.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DATABASE_SIZES, INSTANCE_SIZES } from '../../constructs/digitalocean';
import { BASE_CONFIG, T, runDigitalOceanStack, serviceOf } from './mocks';

const doc = readFileSync(path.resolve(__dirname, '../../docs/digitalocean.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Variants and what they cost'), doc.indexOf('## How the pieces fit'));
const rows = [...section.matchAll(/^\| ([a-z][^|]*) \| ([^|]*) \| [^|]* \| [^|]* \| \*\*([\d–]+)\*\* \|$/gm)].map((m) => ({
  variant: m[1].trim(),
  settings: m[2].trim(),
  total: m[3],
}));

/** The row's settings column as stack configuration. */
function configOf(settings: string): Record<string, string> {
  const config: Record<string, string> = {};
  if (settings === '(none)') return config;
  const database: Record<string, unknown> = {};
  for (const part of settings.split(',').map((s) => s.replace(/`/g, '').trim())) {
    const [key, value] = part.replace(/^--path /, '').split(' ');
    if (key.startsWith('database.')) database[key.slice('database.'.length)] = value === 'true' ? true : value;
    else config[key] = value;
  }
  if (Object.keys(database).length) config.database = JSON.stringify(database);
  return config;
}

test('the docs list the variants', () => {
  expect(rows.map((r) => r.variant)).toEqual(['default', 'one instance', 'smallest', 'autoscaling to 4', 'autoscaling to 6', 'standby database']);
});

test.each(rows.map((r) => [r.variant, r]))('%s costs what the docs say', async (_variant, row) => {
  const run = await runDigitalOceanStack({ ...BASE_CONFIG, ...configOf(row.settings) });
  const service = serviceOf(run);
  const instance = INSTANCE_SIZES.find((s) => s.slug === service.instanceSizeSlug)!;
  const cluster = run.one(T.cluster).inputs;
  const database = DATABASE_SIZES.find((s) => s.slug === cluster.size)!.usdPerMonth * cluster.nodeCount;
  const [min, max] = service.autoscaling
    ? [service.autoscaling.minInstanceCount, service.autoscaling.maxInstanceCount]
    : [service.instanceCount, service.instanceCount];
  const low = min * instance.usdPerMonth + database;
  const high = max * instance.usdPerMonth + database;
  expect(row.total).toBe(low === high ? String(low) : `${low}–${high}`);
  expect(section).toContain(`\`${instance.slug}\``);
  expect(section).toContain(`\`${cluster.size}\``);
});
