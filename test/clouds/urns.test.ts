/**
 * Upgrades between releases of the kit: every cloud resource a stack made at the last release (test/clouds/urns.json)
 * must still be there under the same URN, or under a new one that names the old one as an alias (the engine then
 * moves it in place), or be listed as retired on purpose. A rename without an alias is a replacement: a new database,
 * a new certificate, a new secret. The engine's rules are followed: a resource answers to its URN, its aliases, and
 * (for an alias spec without a parent of its own) every URN its parent answers to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Recorded, Run } from '../support/pulumi-harness';
import { type CloudAdapter, azureAdapter, digitalOceanAdapter, gcpAdapter } from './adapters';

const SNAPSHOT = JSON.parse(readFileSync(join(__dirname, 'urns.json'), 'utf8'));

function parts(urn: string): { prefix: string; typeChain: string; name: string } {
  const [stack, project, typeChain, ...name] = urn.split('::');
  return { prefix: `${stack}::${project}`, typeChain, name: name.join('::') };
}

/** Every URN the engine would map onto `r`. */
export function urnsOf(run: Run, r: Recorded, memo = new Map<Recorded, Set<string>>()): Set<string> {
  const known = memo.get(r);
  if (known) return known;
  const all = new Set<string>([r.urn]);
  memo.set(r, all);
  const { prefix } = parts(r.urn);
  const parent = run.byUrn(r.options.parent);
  // Pulumi's mock monitor qualifies a child's type with its parent's own type (the engine with the parent's whole chain);
  // either way a child answers to its name under every type its parent answers to.
  const parentChains = (urns: Iterable<string>) => [...urns].map((u) => parts(u).typeChain.split('$').pop()!);
  const build = (chain: string | undefined, type: string, name: string) => `${prefix}::${chain ? `${chain}$${type}` : type}::${name}`;
  const specs = [{}, ...r.options.aliases] as { urn?: string; name?: string; type?: string; parentUrn?: string; noParent?: boolean }[];
  for (const spec of specs) {
    if (spec.urn) {
      all.add(spec.urn);
      continue;
    }
    const type = spec.type ?? r.type;
    const name = spec.name ?? r.name;
    const chains = spec.noParent
      ? [undefined]
      : spec.parentUrn
        ? parentChains(run.byUrn(spec.parentUrn) ? urnsOf(run, run.byUrn(spec.parentUrn)!, memo) : [spec.parentUrn])
        : parent
          ? parentChains(urnsOf(run, parent, memo))
          : [undefined];
    for (const chain of chains) all.add(build(chain, type, name));
  }
  return all;
}

const ADAPTERS: Record<string, () => CloudAdapter> = { gcp: gcpAdapter, digitalocean: digitalOceanAdapter, azure: azureAdapter };

function configFor(cloud: string, adapter: CloudAdapter): Record<string, string> {
  const constants = require(`../${cloud}/mocks`);
  const raw = SNAPSHOT[cloud].config as Record<string, string>;
  return { ...adapter.base, ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.replace(/^<(\w+)>$/, (_, c) => constants[c])])) };
}

describe.each(['gcp', 'digitalocean', 'azure'])('%s: every resource of the last release keeps its URN or is aliased', (cloud) => {
  let run: Run;
  let answers: Set<string>;
  beforeAll(async () => {
    const adapter = ADAPTERS[cloud]();
    run = await adapter.run(configFor(cloud, adapter), { secretKeys: SNAPSHOT[cloud].secretKeys });
    const memo = new Map<Recorded, Set<string>>();
    answers = new Set(run.resources.filter((r) => r.custom).flatMap((r) => [...urnsOf(run, r, memo)]));
  });

  test('no resource of the last release would be replaced by an upgrade', () => {
    const retired = SNAPSHOT[cloud].retired as Record<string, string>;
    const lost = (SNAPSHOT[cloud].urns as string[]).filter((urn) => !answers.has(urn) && !(urn in retired));
    expect(lost).toEqual([]);
  });

  test('what is retired is really gone (not silently kept under a stale entry)', () => {
    for (const urn of Object.keys(SNAPSHOT[cloud].retired)) expect(answers.has(urn)).toBe(false);
  });
});

test('the check can fail: a child of a renamed component is lost without the alias, kept with it', () => {
  const parent = {
    urn: 'urn:pulumi:s::p::a:b:Top$a:b:New::c',
    type: 'a:b:New',
    name: 'c',
    custom: false,
    options: { parent: '', aliases: [] as any[] },
  } as any;
  const child = { urn: 'urn:pulumi:s::p::a:b:New$x:y:Z::n', type: 'x:y:Z', name: 'n', custom: true, options: { parent: parent.urn, aliases: [] } } as any;
  const run = { byUrn: (u: string) => [child, parent].find((r) => r.urn === u) } as any;
  const old = 'urn:pulumi:s::p::a:b:Old$x:y:Z::n';
  expect(urnsOf(run, child).has(old)).toBe(false);
  parent.options.aliases = [{ type: 'a:b:Old' }];
  expect(urnsOf(run, child, new Map()).has(old)).toBe(true);
});
