/**
 * One shape for the Pulumi clouds: the same file names for the same roles (kebab-case, as on AWS), components named
 * `Bridge<Role>` (and `ScimBridge<Cloud>` for the whole) with Pulumi types `scim-bridge:<cloud>:<Role>`, and what they
 * share written once, in constructs/pulumi/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const CONSTRUCTS = join(__dirname, '../../constructs');
const CLOUDS = ['gcp', 'digitalocean', 'azure'] as const;
const files = (dir: string) => readdirSync(join(CONSTRUCTS, dir)).filter((f) => f.endsWith('.ts'));
const source = (dir: string) => files(dir).map((f) => ({ file: `${dir}/${f}`, text: readFileSync(join(CONSTRUCTS, dir, f), 'utf8') }));

test('file names are kebab-case on every cloud, as on AWS', () => {
  for (const dir of [...CLOUDS, 'pulumi', 'common', 'aws']) for (const f of files(dir)) expect(`${dir}/${f}`).toMatch(/^[a-z]+\/[a-z0-9]+(-[a-z0-9]+)*\.ts$/);
});

test('the same roles have the same file names on every Pulumi cloud (and on AWS where it has the role)', () => {
  const shared = ['args.ts', 'database.ts', 'front-door.ts', 'index.ts', 'scim-bridge.ts', 'secrets.ts', 'service.ts'];
  for (const cloud of CLOUDS) expect(files(cloud)).toEqual(expect.arrayContaining(shared));
  expect(files('aws')).toEqual(expect.arrayContaining(['database.ts', 'front-door.ts', 'index.ts', 'scim-bridge.ts', 'secrets.ts', 'service.ts']));
});

test('components are Bridge<Role> or ScimBridge<Cloud>, typed scim-bridge:<cloud>:<Role>', () => {
  for (const cloud of CLOUDS) {
    for (const { file, text } of source(cloud)) {
      for (const [, name] of text.matchAll(/export class (\w+) extends pulumi\.ComponentResource/g))
        expect({ file, name }).toEqual({ file, name: expect.stringMatching(/^(Bridge[A-Z]\w+|ScimBridge[A-Z]\w+)$/) });
      for (const [, type] of text.matchAll(/super\('(scim-bridge:[^']+)'/g))
        expect({ file, type }).toEqual({ file, type: expect.stringMatching(new RegExp(`^scim-bridge:${cloud}:[A-Z][A-Za-z]+$`)) });
      for (const [, type] of text.matchAll(/componentType\('(\w+)', '(\w+)'\)/g)) expect(type).toBe(cloud);
    }
  }
});

test('what the Pulumi clouds share is written once, in constructs/pulumi/ (isUnresolved, child options, the image build)', () => {
  for (const cloud of CLOUDS) {
    for (const { file, text } of source(cloud)) {
      expect({ file, isUnresolved: /Output\.isInstance\(\w+\) \|\| \w+ instanceof Promise/.test(text) }).toEqual({ file, isUnresolved: false });
      expect({ file, childOptions: /export function childOptions/.test(text) }).toEqual({ file, childOptions: false });
      expect({ file, build: /new dockerBuild\.Image\(/.test(text) }).toEqual({ file, build: false });
    }
  }
  expect(files('pulumi')).toEqual(expect.arrayContaining(['image.ts', 'options.ts', 'unresolved.ts', 'types.ts']));
});
